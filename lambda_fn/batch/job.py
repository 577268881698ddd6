"""One S3 event's files, one file's job: outputs, idempotency, summary.

incoming/<name>.csv[.gz] -> scored/<name> (every input column, then
probability and label), errors/<name> (line, column, value, reason) when rows
are rejected, and summaries/<name>.json with the counts
(rows_in = rows_scored + rows_rejected), the source's ETag (and version id)
and timings.

A file's run, in order (s3_io, lease and summary hold the pieces):
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
import time
from urllib.parse import unquote_plus

import lambda_fn.batch.summary as summaries
from contract import csv_sniff
from lambda_fn.batch.chunked import route
from lambda_fn.batch.csv_reader import READ_ERRORS, Records, with_line_ends
from lambda_fn.batch.keys import SUFFIXES, output_keys
from lambda_fn.batch.lease import LeaseHeld, acquire_lease
from lambda_fn.batch.s3_io import S3Writer, open_object, publish, read_json_versioned
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


class BatchFailed(Exception):
    """Some files could not be processed; raised after all were tried, so
    Lambda's retry and the dead-letter queue see the event."""


class Busy(Exception):
    """Another run is scoring a different version of the same input; this
    delivery fails so that it is retried once that run is done."""


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
            routed = route(s3, bucket, key, model, config)
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


def score_object(
    s3, bucket: str, key: str, model: Model, config: Config, event_etag: str | None = None
) -> dict:
    """Score one input object (see the module's docstring for the steps)."""
    started = time.perf_counter()
    keys = output_keys(key, config)
    source = summaries.source_of(bucket, key, s3.head_object(Bucket=bucket, Key=key))
    if event_etag and event_etag.strip('"') != source["etag"]:
        return {
            "key": key,
            "status": "superseded",
            "source": source,
            "reason": f"the object was replaced after this event (ETag {event_etag}); "
            "the newer upload's own event scores it",
        }
    previous, _ = read_json_versioned(s3, bucket, keys["summary"])
    if summaries.is_committed(previous, source, model.version):
        return {**previous, "duplicate_delivery": True}
    run_id = summaries.new_run_id()
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
    bucket = source["bucket"]
    previous, previous_etag = read_json_versioned(s3, bucket, keys["summary"])
    if summaries.is_committed(previous, source, model.version):  # committed while we waited
        return {**previous, "duplicate_delivery": True}
    run = summaries.Run(source, model.version, model.threshold, run_id, summaries.now())
    pending = summaries.document(
        run, "pending", note="being scored; outputs of any earlier version were removed"
    )
    pending_etag = summaries.mark_pending(s3, keys, pending, previous_etag)
    scored = S3Writer(s3, bucket, keys["scored"], config.part_bytes, "text/csv")
    errors = S3Writer(s3, bucket, keys["errors"], config.part_bytes, "text/csv")
    out = Outputs(scored, errors, config.explain_top_k)
    out.errors.rows([ERROR_HEADER])
    try:
        result = _score(s3, source, model, config, scored, out)
        commit, outputs = [], {}
        if result["status"] == "scored":
            commit.append(scored)
            outputs["scored"] = keys["scored"]
        else:
            scored.abort()
        if out.tally.rows_rejected or result["status"] == "rejected":
            out.errors.flush()
            commit.append(errors)
            outputs["errors"] = keys["errors"]
        else:
            errors.abort()
        timings = {k: round(v, 4) for k, v in out.tally.timings().items()}
        timings["total_seconds"] = round(time.perf_counter() - started, 4)
        final = summaries.document(run, **result, outputs=outputs, timings=timings)
        publish(s3, bucket, commit, [], keys["summary"], final, pending_etag)
    except BaseException as exc:
        scored.abort()
        errors.abort()
        failed = summaries.document(
            run,
            "failed",
            error=f"{type(exc).__name__}: {exc}"[:2000],
            note="scoring failed; the delivery is retried (then parked in the dead-letter queue)",
        )
        with contextlib.suppress(Exception):  # best effort: the original fault is what is raised
            summaries.record_failure(s3, keys["summary"], failed, pending_etag)
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


class _Rejected(Exception):
    """The file cannot be scored at all; `rows` are its error rows."""

    def __init__(self, rows):
        super().__init__(rows[0][3])
        self.rows = rows
