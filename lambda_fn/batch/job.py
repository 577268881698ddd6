"""One S3 event's files, one file's job: outputs, idempotency, summary.

incoming/<name>.csv[.gz] -> scored/<name> (every input column, then
probability and label), errors/<name> (line, column, value, reason) when rows
are rejected, and summaries/<name>.json with the counts
(rows_in = rows_scored + rows_rejected), the source's ETag (and version id)
and timings.

A file's run, in order (s3_io has the pieces):
1. HEAD the input; an event for an ETag that is no longer current is
   `superseded` (the newer upload's own event scores it).
2. A summary for this source version and model means a duplicate delivery:
   returned as it is, nothing written, nothing counted.
3. A lease on the input name (conditional PUT), so that overlapping
   deliveries never score the same file twice at once.
4. The summary is replaced by a `pending` one naming this source version, and
   the outputs of any earlier run are deleted: an older result never looks
   current while this one is being made, nor after it fails.
5. Scoring into uploads that are not completed; the summary is written
   last, conditionally on the pending one, as the commit marker.
A fault raises (after a best-effort `failed` summary); the delivery is
retried and starts again at 1.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from datetime import UTC, datetime
from urllib.parse import unquote_plus

from contract import csv_sniff
from lambda_fn.batch.csv_reader import READ_ERRORS, Records, with_line_ends
from lambda_fn.batch.s3_io import (
    MAX_KEY_BYTES,
    LeaseHeld,
    S3Writer,
    acquire_lease,
    delete_if_present,
    key_bytes,
    new_run_id,
    open_object,
    publish,
    put_json,
    put_json_once,
    read_json_versioned,
)
from lambda_fn.batch.scoring import (
    ERROR_HEADER,
    Outputs,
    feature_columns,
    header_problems,
    score_chunks,
    scored_header,
)
from lambda_fn.config import Config
from lambda_fn.model import Model

SUFFIXES = (".csv", ".csv.gz")
# What the output keys add after the name (the longest decides when a name is shortened).
_KEY_SUFFIXES = {"scored": "", "errors": "", "summary": ".json", "lease": ".lease"}


class BatchFailed(Exception):
    """Some files could not be processed; raised after all were tried, so
    Lambda's retry and the dead-letter queue see the event."""


class Busy(Exception):
    """Another run is scoring a different version of the same input; this
    delivery fails so that it is retried once that run is done."""


def output_keys(key: str, config: Config) -> dict[str, str]:
    """The keys of a file's outputs, each at most 1,024 bytes: a name too long
    to fit is shortened to its start, a hash of the whole and its extension."""
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


def handle_event(event: dict, model: Model, config: Config, s3, log=None) -> dict:
    """Every record of an S3 event; one file's failure does not stop the others."""
    results, failed = [], []
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        obj = record["s3"]["object"]
        key = unquote_plus(obj["key"])
        if not key.startswith(config.input_prefix) or not key.lower().endswith(SUFFIXES):
            results.append(
                {
                    "key": key,
                    "status": "skipped",
                    "reason": f"not a .csv/.csv.gz under {config.input_prefix}",
                }
            )
            continue
        try:
            # A file too large for one invocation goes to the state machine instead.
            from lambda_fn.batch import chunked

            routed = chunked.route(s3, bucket, key, model, config)
            results.append(
                routed or score_object(s3, bucket, key, model, config, event_etag=obj.get("eTag"))
            )
        except Exception as exc:  # noqa: BLE001 - reported, then re-raised below
            if log is not None:
                log.exception("file failed", extra={"bucket": bucket, "key": key})
            failed.append(key)
            results.append(
                {"key": key, "status": "failed", "error": f"{type(exc).__name__}: {exc}"}
            )
    if failed:
        raise BatchFailed(f"{len(failed)} file(s) failed: {', '.join(failed)}")
    return {"files": results}


def same_run(summary, source: dict, model: Model) -> bool:
    """Whether `summary` is for this version of the source and this model."""
    if not isinstance(summary, dict) or not isinstance(summary.get("source"), dict):
        return False
    seen = summary["source"]
    return (
        seen.get("etag") == source["etag"]
        and seen.get("version_id") == source.get("version_id")
        and summary.get("model_version") == model.version
    )


def is_committed(summary, source: dict, model: Model) -> bool:
    return same_run(summary, source, model) and summary.get("status") in ("scored", "rejected")


def score_object(
    s3, bucket: str, key: str, model: Model, config: Config, event_etag: str | None = None
) -> dict:
    """Score one input object (see the module's docstring for the steps)."""
    started = time.perf_counter()
    keys = output_keys(key, config)
    head = s3.head_object(Bucket=bucket, Key=key)
    source = {"bucket": bucket, "key": key, "etag": head["ETag"].strip('"')}
    if head.get("VersionId") and head["VersionId"] != "null":
        source["version_id"] = head["VersionId"]
    source["bytes"] = head["ContentLength"]
    if event_etag and event_etag.strip('"') != source["etag"]:
        return {
            "key": key,
            "status": "superseded",
            "source": source,
            "reason": f"the object was replaced after this event (ETag {event_etag}); "
            "the newer upload's own event scores it",
        }
    previous, _ = read_json_versioned(s3, bucket, keys["summary"])
    if is_committed(previous, source, model):
        return {**previous, "duplicate_delivery": True}
    run_id = new_run_id()
    try:
        lease = acquire_lease(
            s3,
            bucket,
            keys["lease"],
            config.lease_seconds,
            {"source": source, "model_version": model.version},
            run_id,
        )
    except LeaseHeld as held:
        holder = held.holder.get("source") or {}
        if holder.get("etag") == source["etag"]:
            # Another delivery of this very version is scoring it: that run
            # commits (or fails, and its own message is retried).
            return {
                "key": key,
                "status": "in_progress",
                "source": source,
                "duplicate_delivery": True,
            }
        raise Busy(f"{held}; this delivery will be retried") from None
    try:
        return _run(s3, keys, source, model, config, started, run_id)
    finally:
        lease.release()


def _run(
    s3, keys: dict, source: dict, model: Model, config: Config, started: float, run_id: str
) -> dict:
    bucket, key = source["bucket"], source["key"]
    previous, previous_etag = read_json_versioned(s3, bucket, keys["summary"])
    if is_committed(previous, source, model):  # committed while we waited for the lease
        return {**previous, "duplicate_delivery": True}
    summary = {
        "key": key,
        "source": source,
        "model_version": model.version,
        "threshold": model.threshold,
        "run_id": run_id,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    pending = {
        **summary,
        "status": "pending",
        "note": "being scored; outputs of any earlier version were removed",
    }
    pending_etag = put_json_once(
        s3, bucket, keys["summary"], pending, if_match=previous_etag, create=True
    )
    for stale in (keys["scored"], keys["errors"]):
        delete_if_present(s3, bucket, stale)

    scored = S3Writer(s3, bucket, keys["scored"], config.part_bytes, "text/csv")
    errors = S3Writer(s3, bucket, keys["errors"], config.part_bytes, "text/csv")
    out = Outputs(scored, errors, config.explain_top_k)
    out.errors.rows([ERROR_HEADER])
    try:
        final = _score(s3, source, model, config, scored, out)
        final = {**summary, **final}
        commit = [scored] if final["status"] == "scored" else []
        if final["status"] == "scored":
            final["outputs"] = {"scored": keys["scored"]}
        else:
            scored.abort()
            final["outputs"] = {}
        if out.tally.rows_rejected or final["status"] == "rejected":
            out.errors.flush()
            commit.append(errors)
            final["outputs"]["errors"] = keys["errors"]
        else:
            errors.abort()
        final["timings"] = {k: round(v, 4) for k, v in out.tally.timings().items()}
        final["timings"]["total_seconds"] = round(time.perf_counter() - started, 4)
        publish(s3, bucket, commit, [], keys["summary"], final, pending_etag)
    except BaseException as exc:
        scored.abort()
        errors.abort()
        _record_failure(s3, keys["summary"], pending, pending_etag, exc)
        raise
    final["outputs"]["summary"] = keys["summary"]
    return final


def _score(s3, source: dict, model: Model, config: Config, scored: S3Writer, out: Outputs) -> dict:
    """Status and counts; rows go to `scored` and out.errors (not yet committed)."""
    records = None
    try:
        try:
            binary = open_object(
                s3, source["bucket"], source["key"], source["etag"], source["bytes"]
            )
            binary = with_line_ends(binary)
            not_csv = csv_sniff.header_problem(binary.peek(), model.schema.names)
            if not_csv:
                raise _Rejected([[1, "", "", not_csv]])
            records = Records(binary)
            header_raw, header = records.header()
        except READ_ERRORS as exc:
            raise _Rejected([[1, "", "", f"unreadable file: {_describe(exc)}"]]) from exc
        problems = header_problems(header, model)
        if problems:
            raise _Rejected(problems)
        scored.write(scored_header(header_raw, config.explain_top_k))
        columns = feature_columns(header, model)
        try:
            score_chunks(records.chunks(config.chunk_rows, columns.width), columns, model, out)
        except READ_ERRORS as exc:
            line = records.line_num + 1
            raise _Rejected(
                [
                    [
                        line,
                        "",
                        "",
                        f"the file is damaged from line {line} on ({_describe(exc)}); "
                        "nothing was scored",
                    ]
                ]
            ) from exc
    except _Rejected as rejected:
        out.errors.rows(rejected.rows)
        read = out.tally.rows_in
        return {
            "status": "rejected",
            "reason": rejected.rows[0][3],
            "rows_in": read,
            "rows_scored": 0,
            "rows_rejected": read,
        }
    scored.finish()
    return {"status": "scored", **out.tally.counts()}


def _describe(exc: BaseException) -> str:
    """A read error as a user can act on it (gzip's own messages are terse)."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, EOFError):
        return f"the gzip data is truncated: {text}"
    if type(exc).__name__ in ("BadGzipFile", "error"):  # gzip.BadGzipFile, zlib.error
        return f"the gzip data is damaged: {text}"
    return text


def _record_failure(s3, summary_key: str, pending: dict, pending_etag: str, exc) -> None:
    """Best effort: the summary says this version failed and will be retried."""
    failed = {
        **pending,
        "status": "failed",
        "error": f"{type(exc).__name__}: {exc}"[:2000],
        "note": "scoring failed; the delivery is retried (then parked in the dead-letter queue)",
    }
    with contextlib.suppress(Exception):  # the original fault is what gets raised
        put_json(s3, pending["source"]["bucket"], summary_key, failed, if_match=pending_etag)


class _Rejected(Exception):
    """The file cannot be scored at all; `rows` are its error rows."""

    def __init__(self, rows):
        super().__init__(rows[0][3])
        self.rows = rows
