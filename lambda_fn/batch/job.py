"""One S3 event's files, one file's job: outputs, duplicate check, summary.

incoming/<name>.csv[.gz] -> scored/<name> (every input column, then
probability and label), errors/<name> (line, column, value, reason) when rows
are rejected, and summaries/<name>.json with the counts
(rows_in = rows_scored + rows_rejected) and timings. A second delivery of the
same event (same object ETag, same model) finds the summary and leaves the
outputs as they are.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from urllib.parse import unquote_plus

from lambda_fn import csv_sniff
from lambda_fn.batch.csv_reader import READ_ERRORS, Records
from lambda_fn.batch.s3_io import S3Writer, open_object, read_json
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


class BatchFailed(Exception):
    """Some files could not be processed; raised after all were tried, so
    Lambda's retry and the dead-letter queue see the event."""


def output_keys(key: str, config: Config) -> dict[str, str]:
    name = key[len(config.input_prefix) :]
    return {
        "scored": config.scored_prefix + name,
        "errors": config.errors_prefix + name,
        "summary": config.summary_prefix + name + ".json",
    }


def handle_event(event: dict, model: Model, config: Config, s3, log=None) -> dict:
    """Every record of an S3 event; one file's failure does not stop the others."""
    results, failed = [], []
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])
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
            results.append(routed or score_object(s3, bucket, key, model, config))
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


def score_object(s3, bucket: str, key: str, model: Model, config: Config) -> dict:
    started = time.perf_counter()
    keys = output_keys(key, config)
    head = s3.head_object(Bucket=bucket, Key=key)
    etag = head["ETag"].strip('"')
    previous = read_json(s3, bucket, keys["summary"])
    if (
        previous
        and previous.get("source", {}).get("etag") == etag
        and previous.get("model_version") == model.version
        and previous.get("status") in ("scored", "rejected")
    ):
        return {**previous, "duplicate_delivery": True}

    binary = open_object(s3, bucket, key)
    summary = {
        "key": key,
        "source": {"bucket": bucket, "key": key, "etag": etag, "bytes": head["ContentLength"]},
        "model_version": model.version,
        "threshold": model.threshold,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    scored = S3Writer(s3, bucket, keys["scored"], config.part_bytes, "text/csv")
    errors = S3Writer(s3, bucket, keys["errors"], config.part_bytes, "text/csv")
    out = Outputs(scored, errors)
    out.errors.rows([ERROR_HEADER])
    records = Records(binary)
    try:
        try:
            not_csv = csv_sniff.header_problem(binary.peek(), model.schema.names)
            if not_csv:
                raise _Rejected([[1, "", "", not_csv]])
            header_raw, header = records.header()
        except READ_ERRORS as exc:
            raise _Rejected([[1, "", "", f"unreadable file: {exc}"]]) from exc
        problems = header_problems(header, model)
        if problems:
            raise _Rejected(problems)
        scored.write(scored_header(header_raw))
        columns = feature_columns(header, model)
        try:
            chunks = records.chunks(config.chunk_rows, columns.width)
            score_chunks(chunks, columns, model, out)
        except READ_ERRORS as exc:
            line = records.line_num + 1
            out.errors.rows([[line, "", "", f"file unreadable from here: {exc}"]])
            summary["truncated"] = f"stopped at line {line}: {exc}"
        t = time.perf_counter()
        scored.close()
        summary["status"] = "scored"
        summary["outputs"] = {"scored": keys["scored"]}
        if out.tally.rows_rejected or "truncated" in summary:
            out.errors.flush()
            errors.close()
            summary["outputs"]["errors"] = keys["errors"]
        else:
            s3.delete_object(Bucket=bucket, Key=keys["errors"])  # stale from an earlier upload
        out.tally.write_seconds += time.perf_counter() - t
    except _Rejected as rejected:
        scored.abort()
        out.errors.rows(rejected.rows)
        errors.close()
        summary["status"] = "rejected"
        summary["reason"] = rejected.rows[0][3]
        summary["outputs"] = {"errors": keys["errors"]}
    except BaseException:
        scored.abort()
        errors.abort()
        raise
    summary.update(out.tally.counts())
    summary["timings"] = {k: round(v, 4) for k, v in out.tally.timings().items()}
    summary["timings"]["total_seconds"] = round(time.perf_counter() - started, 4)
    s3.put_object(
        Bucket=bucket,
        Key=keys["summary"],
        ContentType="application/json",
        Body=json.dumps(summary, indent=2).encode(),
    )
    summary["outputs"]["summary"] = keys["summary"]
    return summary


class _Rejected(Exception):
    """The file cannot be scored at all; `rows` are its error rows."""

    def __init__(self, rows):
        super().__init__(rows[0][3])
        self.rows = rows
