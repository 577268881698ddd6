"""Where a file's outputs go: the one scheme of output keys.

incoming/<name> -> scored/<name>, errors/<name>, summaries/<name>.json and,
while a run scores it, leases/<name>.lease (prefixes from Config). S3 keys are
at most 1,024 bytes of UTF-8, so a name too long to fit under every prefix is
shortened the same way for all of them.
"""

from __future__ import annotations

import hashlib

from lambda_fn.config import Config

SUFFIXES = (".csv", ".csv.gz")
MAX_KEY_BYTES = 1024
# What each output key adds after the name (the longest decides when a name is shortened).
_KEY_SUFFIXES = {"scored": "", "errors": "", "summary": ".json", "lease": ".lease"}


def key_bytes(key: str) -> int:
    return len(key.encode("utf-8", "surrogatepass"))


def output_keys(key: str, config: Config) -> dict[str, str]:
    """The keys of a file's outputs, each at most MAX_KEY_BYTES: a name too
    long to fit is shortened to its start, a hash of the whole and its extension."""
    name = key[len(config.input_prefix) :]
    prefixes = {
        "scored": config.scored_prefix,
        "errors": config.errors_prefix,
        "summary": config.summary_prefix,
        "lease": config.lease_prefix,
    }
    longest = max(key_bytes(prefixes[k] + s) for k, s in _KEY_SUFFIXES.items())
    if key_bytes(name) + longest > MAX_KEY_BYTES:
        name = short_name(name, MAX_KEY_BYTES - longest)
    return {k: prefixes[k] + name + s for k, s in _KEY_SUFFIXES.items()}


def short_name(name: str, limit: int) -> str:
    """`name` in at most `limit` bytes: its start, '~', 16 hex digits of its
    SHA-256 and its .csv/.csv.gz extension, as it was spelt."""
    ext = next((name[-len(s) :] for s in SUFFIXES[::-1] if name.lower().endswith(s)), "")
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    room = max(0, limit - key_bytes(ext) - len(digest) - 1)
    stem = name[: len(name) - len(ext)].encode("utf-8", "surrogatepass")[:room]
    return stem.decode("utf-8", "ignore") + "~" + digest + ext
