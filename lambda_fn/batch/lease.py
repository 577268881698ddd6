"""Leases: one run per input name at a time.

A lease is a small JSON object under LEASE_PREFIX, created with a conditional
PUT (If-None-Match), so that overlapping deliveries never score the same file
twice at once; a killed run's lease is taken over (If-Match) once it expires.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from lambda_fn.batch.s3_io import (
    condition_failed,
    error_code,
    put_json_once,
    read_json,
    read_json_versioned,
)


class LeaseHeld(Exception):
    """Another run holds the input's lease; `holder` is what it wrote."""

    def __init__(self, key: str, holder: dict):
        super().__init__(f"{key} is held by another run ({holder.get('run_id')})")
        self.holder = holder


@dataclass
class Lease:
    """One run's claim on an input name, until expires_at (epoch seconds)."""

    s3: object
    bucket: str
    key: str
    owner: str
    etag: str
    expires_at: float

    def release(self) -> None:
        """Delete the lease if it is still this run's (If-Match on its ETag)."""
        try:
            self.s3.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=self.etag)
        except Exception as exc:  # noqa: BLE001 - taken over or gone: nothing of ours to delete
            if not condition_failed(exc) and error_code(exc) not in ("404", "NoSuchKey"):
                raise


def acquire_lease(s3, bucket: str, key: str, seconds: float, about: dict, run_id: str) -> Lease:
    """Claim `key` for `seconds` for the run `run_id`: created with
    If-None-Match, or taken over with If-Match once the holder's lease has
    expired (a run that was killed). Raises LeaseHeld when another live run
    holds it."""
    expires_at = time.time() + seconds
    body = {**about, "run_id": run_id, "expires_at": expires_at}
    try:
        etag = put_json_once(s3, bucket, key, body, create=True)
        return Lease(s3, bucket, key, run_id, etag, expires_at)
    except Exception as exc:
        if not condition_failed(exc):
            raise
    holder, holder_etag = read_json_versioned(s3, bucket, key)
    if holder_etag is None:  # released in between: try once more from the start
        etag = _put_or_held(s3, bucket, key, body, create=True)
        return Lease(s3, bucket, key, run_id, etag, expires_at)
    holder = holder if isinstance(holder, dict) else {}
    if float(holder.get("expires_at", 0)) > time.time():
        raise LeaseHeld(key, holder)
    etag = _put_or_held(s3, bucket, key, body, if_match=holder_etag)
    return Lease(s3, bucket, key, run_id, etag, expires_at)


def _put_or_held(s3, bucket, key, body, **condition) -> str:
    try:
        return put_json_once(s3, bucket, key, body, **condition)
    except Exception as exc:
        if condition_failed(exc):
            raise LeaseHeld(key, read_json(s3, bucket, key) or {}) from exc
        raise
