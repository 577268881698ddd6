"""Settings from the function's environment, checked once at init."""

from __future__ import annotations

import os
from dataclasses import dataclass


class ConfigError(Exception):
    """A setting is invalid; the function refuses to start."""


def _int(env, name: str, default: int, low: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < low:
        raise ConfigError(f"{name} must be at least {low}, got {value}")
    return value


def _choice(env, name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name) or default
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _prefix(env, name: str, default: str) -> str:
    value = env.get(name) or default
    return value if value.endswith("/") else value + "/"


def _overlap(a: str, b: str) -> bool:
    return a.startswith(b) or b.startswith(a)


@dataclass(frozen=True)
class Config:
    max_records: int = 1000
    max_body_bytes: int = 5_500_000  # under API Gateway/Lambda's 6 MB payload limit
    input_prefix: str = "incoming/"
    scored_prefix: str = "scored/"
    errors_prefix: str = "errors/"
    summary_prefix: str = "summaries/"
    # One object per input name while a run scores it (a lease, see batch/lease.py).
    lease_prefix: str = "leases/"
    # Rows read, parsed, scored and written at a time: 1,024 rows of a narrow
    # file keep their cells in a core's L2 cache (a fifth faster than 10,000, #28).
    chunk_rows: int = 1024
    part_bytes: int = 16 * 1024 * 1024
    # Longer than the batch function's timeout, so a live run's lease never
    # expires; a killed run's lease is taken over by the retry after that.
    lease_seconds: int = 960
    # The S3 client's retries (botocore's retry modes, with backoff): each
    # call is tried up to s3_max_attempts times on throttling, 5xx and timeouts.
    s3_retry_mode: str = "standard"
    s3_max_attempts: int = 5
    s3_connect_timeout: int = 5
    s3_read_timeout: int = 30
    # Large files (batch/chunked). With a state machine, a plain CSV over
    # inplace_max_bytes is scored in byte ranges of about range_bytes; without
    # one (local runs, tests) every file is scored in one invocation.
    state_machine_arn: str = ""
    # A whole-file run must end within the function's timeout; the default
    # keeps well under what docs/benchmarks.md measures for that time.
    inplace_max_bytes: int = 2_000_000_000
    # Gzip cannot be cut into ranges, so a .csv.gz is always scored whole; CSV
    # commonly compresses 5-10x, so this is about the uncompressed budget.
    gzip_max_bytes: int = 400_000_000
    range_bytes: int = 128 << 20
    # The chunked path's working objects (plan, ranges' outputs); never a result.
    staging_prefix: str = "staging/"
    # Top reasons per scored row in scored/ files (reason_1, reason_1_contribution, ...).
    explain_top_k: int = 0

    @classmethod
    def from_env(cls, env=None) -> Config:
        env = os.environ if env is None else env
        config = cls(
            max_records=_int(env, "MAX_RECORDS", cls.max_records, 1),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", cls.max_body_bytes, 1024),
            input_prefix=_prefix(env, "INPUT_PREFIX", cls.input_prefix),
            scored_prefix=_prefix(env, "SCORED_PREFIX", cls.scored_prefix),
            errors_prefix=_prefix(env, "ERRORS_PREFIX", cls.errors_prefix),
            summary_prefix=_prefix(env, "SUMMARY_PREFIX", cls.summary_prefix),
            lease_prefix=_prefix(env, "LEASE_PREFIX", cls.lease_prefix),
            chunk_rows=_int(env, "CHUNK_ROWS", cls.chunk_rows, 1),
            # S3 multipart parts must be at least 5 MiB (except the last).
            part_bytes=_int(env, "PART_BYTES", cls.part_bytes, 5 * 1024 * 1024),
            lease_seconds=_int(env, "LEASE_SECONDS", cls.lease_seconds, 1),
            s3_retry_mode=_choice(
                env, "S3_RETRY_MODE", cls.s3_retry_mode, ("standard", "adaptive", "legacy")
            ),
            s3_max_attempts=_int(env, "S3_MAX_ATTEMPTS", cls.s3_max_attempts, 1),
            s3_connect_timeout=_int(env, "S3_CONNECT_TIMEOUT", cls.s3_connect_timeout, 1),
            s3_read_timeout=_int(env, "S3_READ_TIMEOUT", cls.s3_read_timeout, 1),
            state_machine_arn=env.get("STATE_MACHINE_ARN", ""),
            inplace_max_bytes=_int(env, "INPLACE_MAX_BYTES", cls.inplace_max_bytes, 1),
            gzip_max_bytes=_int(env, "GZIP_MAX_BYTES", cls.gzip_max_bytes, 1),
            range_bytes=_int(env, "RANGE_BYTES", cls.range_bytes, 1),
            staging_prefix=_prefix(env, "STAGING_PREFIX", cls.staging_prefix),
            explain_top_k=_int(env, "EXPLAIN_TOP_K", cls.explain_top_k, 0),
        )
        if config.explain_top_k > 1000:
            raise ConfigError(f"EXPLAIN_TOP_K must be at most 1000, got {config.explain_top_k}")
        config.check_prefixes()
        return config

    def check_prefixes(self) -> None:
        """No output may land under the input prefix (the function would
        trigger itself), and staging may not mix with inputs or results."""
        for name in ("scored_prefix", "errors_prefix", "summary_prefix", "lease_prefix"):
            out = getattr(self, name)
            if _overlap(out, self.input_prefix):
                raise ConfigError(
                    f"{name.upper()} {out!r} overlaps INPUT_PREFIX {self.input_prefix!r}: "
                    "the function would trigger itself"
                )
        for name in ("input_prefix", "scored_prefix", "errors_prefix", "summary_prefix"):
            other = getattr(self, name)
            if _overlap(self.staging_prefix, other):
                raise ConfigError(
                    f"STAGING_PREFIX {self.staging_prefix!r} overlaps {name.upper()} {other!r}"
                )

    def botocore_config(self):
        """The S3 client's settings: retry mode and attempts, timeouts."""
        from botocore.config import Config as BotocoreConfig

        return BotocoreConfig(
            retries={"mode": self.s3_retry_mode, "max_attempts": self.s3_max_attempts},
            connect_timeout=self.s3_connect_timeout,
            read_timeout=self.s3_read_timeout,
        )
