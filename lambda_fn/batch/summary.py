"""The summary document, summaries/<name>.json: one per input name, and the
commit marker of the run that wrote it.

An output is current only when its summary says `scored` or `rejected` for
the input's ETag (and version id, on a versioned bucket) and the model
serving now. Both paths, whole-file (job.py) and chunked, write it through
this module, so every summary has the same fields first (key, source,
model_version, threshold, run_id, started_at, status) and the same `source`:
bucket, key, etag, version_id (only on a versioned bucket) and bytes.

A run marks the summary `pending` before it writes anything (and deletes the
outputs of any earlier run), and writes its final summary last, conditionally
on that pending one; a failed run records `failed` the same way.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import NamedTuple

from lambda_fn.batch.s3_io import condition_failed, delete_if_present, put_json, put_json_once

COMMITTED = ("scored", "rejected")


class Run(NamedTuple):
    """What every summary of one run says first."""

    source: dict
    model_version: str
    threshold: float | None
    run_id: str
    started_at: str | None


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_run_id() -> str:
    return uuid.uuid4().hex


def version_id(raw: str | None) -> str | None:
    """An object's version id; None when the bucket keeps no versions (S3
    answers none, or "null" for an object written while it kept none)."""
    return raw if raw and raw != "null" else None


def source(bucket: str, key: str, etag: str | None, version: str | None, size: int | None) -> dict:
    """The input a run scored: the one shape of a summary's `source`."""
    found = {"bucket": bucket, "key": key, "etag": etag}
    if version_id(version):
        found["version_id"] = version
    found["bytes"] = size
    return found


def source_of(bucket: str, key: str, head: dict) -> dict:
    """`source` from a HEAD (or GET) of the object."""
    etag = head["ETag"].strip('"')
    return source(bucket, key, etag, head.get("VersionId"), head["ContentLength"])


def document(run: Run, status: str, **fields) -> dict:
    """The summary of `run` with `status` and what that status adds."""
    return {
        "key": run.source["key"],
        "source": run.source,
        "model_version": run.model_version,
        "threshold": run.threshold,
        "run_id": run.run_id,
        "started_at": run.started_at,
        "status": status,
        **fields,
    }


def same_run(summary, source: dict, model_version: str) -> bool:
    """Whether `summary` is for this version of the source and this model."""
    if not isinstance(summary, dict) or not isinstance(summary.get("source"), dict):
        return False
    seen = summary["source"]
    return (
        seen.get("etag") == source["etag"]
        and seen.get("version_id") == source.get("version_id")
        and summary.get("model_version") == model_version
    )


def is_committed(summary, source: dict, model_version: str) -> bool:
    return same_run(summary, source, model_version) and summary.get("status") in COMMITTED


def mark_pending(s3, keys: dict, pending: dict, previous_etag: str | None) -> str:
    """Replaces the summary (ETag previous_etag, None: none yet) by this run's
    pending one and deletes the outputs of any earlier run: an older result
    never looks current while this one is made, nor after it fails. The
    pending summary's ETag, which the commit is conditional on."""
    bucket = pending["source"]["bucket"]
    etag = put_json_once(s3, bucket, keys["summary"], pending, if_match=previous_etag, create=True)
    for stale in (keys["scored"], keys["errors"]):
        delete_if_present(s3, bucket, stale)
    return etag


def record_failure(s3, summary_key: str, failed: dict, etag: str | None) -> bool:
    """Writes the `failed` summary over the one whose ETag is `etag` (None:
    where there is none); False when another run wrote it since (its summary
    stands)."""
    bucket = failed["source"]["bucket"]
    try:
        put_json(s3, bucket, summary_key, failed, if_match=etag, create=True)
    except Exception as exc:  # botocore's ClientError, without importing botocore here
        if condition_failed(exc):
            return False
        raise
    return True
