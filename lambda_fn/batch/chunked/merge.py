"""Merge and fail tasks: the chunked path's results published, or nothing.

The merge writes what the whole-file path writes for the same object, byte for
byte: scored/<name> = the scored header, then every range's scored rows in
range order; errors/<name> = the error header, then every range's error rows
(already numbered as in the whole file), only when rows were rejected; then
summaries/<name>.json with the summed counts, last. Each final object is one
multipart upload assembled server-side (UploadPartCopy) from the range
outputs; S3 wants every part but the last to be at least 5 MiB, so small
pieces (the header, small ranges, the start of a range that follows them)
are read and uploaded as a part instead. An object appears only when its
upload completes, so a failed merge leaves no partial result.

The run keeps the whole-file path's commit protocol (batch/summary.py): its
plan task first replaces the summary by a `pending` one naming this run and
deletes the outputs of any earlier version (begin_run), so an older result
never looks current while this one is made; the merge writes the final
summary last, conditionally on that pending one, and a run whose pending
summary was replaced (a newer upload's run began) publishes nothing.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import lambda_fn.batch.chunked.staging as stage
import lambda_fn.batch.summary as summaries
from lambda_fn.batch.keys import output_keys
from lambda_fn.batch.s3_io import list_objects, put_json_once, read_json, read_json_versioned
from lambda_fn.batch.scoring import ERROR_HEADER, scored_header
from lambda_fn.config import Config

MIN_PART_BYTES = 5 << 20  # S3's smallest part but the last
MAX_COPY_BYTES = 5 << 30  # S3's largest part
RUN_METADATA = "scoring-run"  # names the run that published an object


class MissingParts(Exception):
    """A range's outputs are not in staging: the map did not finish it."""


class Superseded(Exception):
    """Another run (a newer upload of the same name) replaced this run's
    pending summary: its results must not be published over that run's."""


def begin_run(s3, task: dict, config: Config, model_version: str, threshold: float) -> str:
    """Marks the summary pending for this run and deletes the outputs of any
    earlier version; the pending summary's ETag (the merge's condition)."""
    bucket = task["bucket"]
    out = output_keys(task["key"], config)
    _, previous_etag = read_json_versioned(s3, bucket, out["summary"])
    source = summaries.source(bucket, task["key"], task["etag"], task.get("version"), None)
    run = summaries.Run(source, model_version, threshold, task["run"], summaries.now())
    pending = summaries.document(
        run,
        "pending",
        note="being scored in ranges; outputs of any earlier version were removed",
        chunked={"run": task["run"]},
    )
    return summaries.mark_pending(s3, out, pending, previous_etag)


def _still_ours(s3, bucket: str, summary_key: str, run: str, etag: str) -> None:
    seen, seen_etag = read_json_versioned(s3, bucket, summary_key)
    if seen_etag != etag:
        other = seen.get("run_id") if isinstance(seen, dict) else None
        raise Superseded(
            f"s3://{bucket}/{summary_key} is no longer run {run}'s pending summary "
            f"(now: run {other}); this run publishes nothing"
        )


def compose(s3, bucket: str, key: str, pieces: list, run: str, content_type: str) -> int:
    """One object from pieces in order, each bytes or (source_key, size); its size.

    A source piece of at least MIN_PART_BYTES that starts a part is copied by
    S3; everything else is read and uploaded, in parts of at least
    MIN_PART_BYTES, or as one PUT when the whole object is that small."""
    upload = {"Bucket": bucket, "Key": key}
    upload_id = None
    parts: list[dict] = []
    buffer = bytearray()
    total = 0

    def start() -> str:
        nonlocal upload_id
        if upload_id is None:
            upload_id = s3.create_multipart_upload(
                **upload, ContentType=content_type, Metadata={RUN_METADATA: run}
            )["UploadId"]
        return upload_id

    def upload_buffer() -> None:
        number = len(parts) + 1
        etag = s3.upload_part(**upload, UploadId=start(), PartNumber=number, Body=bytes(buffer))[
            "ETag"
        ]
        parts.append({"ETag": etag, "PartNumber": number})
        buffer.clear()

    def copy(source: str, first: int, last: int) -> None:
        number = len(parts) + 1
        etag = s3.upload_part_copy(
            **upload,
            UploadId=start(),
            PartNumber=number,
            CopySource={"Bucket": bucket, "Key": source},
            CopySourceRange=f"bytes={first}-{last}",
        )["CopyPartResult"]["ETag"]
        parts.append({"ETag": etag, "PartNumber": number})

    try:
        for piece in pieces:
            if isinstance(piece, bytes | bytearray):
                source, size = None, len(piece)
            else:
                source, size = piece
            total += size
            pos = 0
            while pos < size:
                rest = size - pos
                if source is not None and not buffer and rest >= MIN_PART_BYTES:
                    n = (
                        rest
                        if rest <= MAX_COPY_BYTES
                        else min(MAX_COPY_BYTES, rest - MIN_PART_BYTES)
                    )
                    copy(source, pos, pos + n - 1)
                    pos += n
                    continue
                n = min(MIN_PART_BYTES - len(buffer), rest)
                if source is None:
                    buffer += piece[pos : pos + n]
                else:
                    r = f"bytes={pos}-{pos + n - 1}"
                    buffer += s3.get_object(Bucket=bucket, Key=source, Range=r)["Body"].read()
                pos += n
                if len(buffer) >= MIN_PART_BYTES:
                    upload_buffer()
        if upload_id is None:
            s3.put_object(
                **upload, Body=bytes(buffer), ContentType=content_type, Metadata={RUN_METADATA: run}
            )
            return total
        if buffer or not parts:
            upload_buffer()
        s3.complete_multipart_upload(**upload, UploadId=upload_id, MultipartUpload={"Parts": parts})
    except BaseException:
        if upload_id is not None:
            s3.abort_multipart_upload(**upload, UploadId=upload_id)
        raise
    return total


def merge_task(s3, task: dict, config: Config, staging: str, threshold: float) -> dict:
    t0 = time.perf_counter()
    bucket, run = task["bucket"], task["run"]
    keys = stage.keys(staging, run)
    plan = stage.get_json(s3, bucket, keys["plan"])
    sizes = {o["Key"]: o["Size"] for o in list_objects(s3, bucket, keys["root"] + "parts/")}
    parts = [stage.part_keys(staging, run, i) for i in range(plan["ranges"])]
    missing = [p["tally"] for p in parts if p["tally"] not in sizes]
    if missing:
        raise MissingParts(f"{len(missing)} range(s) have no outputs, first {missing[0]}")
    tallies = [stage.get_json(s3, bucket, p["tally"]) for p in parts]
    counts = {k: sum(t[k] for t in tallies) for k in ("rows_in", "rows_scored", "rows_rejected")}
    timings = {k: round(sum(t["timings"][k] for t in tallies), 4) for k in tallies[0]["timings"]}
    source = plan["source"]
    out = output_keys(source["key"], config)
    _still_ours(s3, bucket, out["summary"], run, plan.get("summary_etag"))
    compose(
        s3,
        bucket,
        out["scored"],
        [scored_header(plan["header_raw"], config.explain_top_k)]
        + [(p["scored"], sizes[p["scored"]]) for p in parts],
        run,
        "text/csv",
    )
    outputs = {"scored": out["scored"]}
    if counts["rows_rejected"]:
        header = (",".join(ERROR_HEADER) + "\n").encode()
        errors = [(p["errors"], sizes[p["errors"]]) for p in parts]
        compose(s3, bucket, out["errors"], [header, *errors], run, "text/csv")
        outputs["errors"] = out["errors"]
    merge_seconds = time.perf_counter() - t0
    summary = summaries.document(
        summaries.Run(source, plan["model_version"], threshold, run, plan["started_at"]),
        "scored",
        outputs=outputs,
        **counts,
        timings={
            **timings,
            "merge_seconds": round(merge_seconds, 4),
            "total_seconds": round(_since(plan["started_at"]), 4),
        },
        chunked={"run": run, "ranges": plan["ranges"], "lines": plan["lines"]},
    )
    # Last, and only over this run's pending summary: the commit marker.
    put_json_once(
        s3, bucket, out["summary"], summary, if_match=plan.get("summary_etag"), create=True
    )
    stage.remove(s3, bucket, keys["root"])
    return {"status": "scored", **counts, "summary": out["summary"]}


def fail_task(
    s3, task: dict, config: Config, staging: str, model_version: str, threshold: float
) -> dict:
    """After a failed plan, range or merge: no final output of this run stays,
    the summary says why, the staging prefix goes."""
    bucket, key, run = task["bucket"], task["key"], task["run"]
    error = task.get("error") or {}
    reason = f"{error.get('Error', 'unknown error')}: {_cause(error.get('Cause'))}"
    out = output_keys(key, config)
    for name in ("scored", "errors"):
        try:
            head = s3.head_object(Bucket=bucket, Key=out[name])
        except Exception:  # noqa: BLE001, S112 - absent: nothing to take back
            continue
        if head.get("Metadata", {}).get(RUN_METADATA) == run:
            s3.delete_object(Bucket=bucket, Key=out[name])
    staged = stage.keys(staging, run)
    plan = read_json(s3, bucket, staged["plan"])  # none when the plan failed
    plan = plan if isinstance(plan, dict) else {}
    source = plan.get("source") or summaries.source(
        bucket, key, task.get("etag"), task.get("version"), None
    )
    failed = summaries.document(
        summaries.Run(source, model_version, threshold, run, plan.get("started_at")),
        "failed",
        reason=reason,
        outputs={},
        chunked={"run": run},
        failed_at=summaries.now(),
    )
    recorded = _record_failure(s3, out["summary"], failed)
    removed = stage.remove(s3, bucket, staged["root"])
    return {
        "status": "failed",
        "reason": reason,
        "summary_written": recorded,
        "staging_objects_removed": removed,
    }


def _record_failure(s3, summary_key: str, failed: dict) -> bool:
    """The failed summary, unless another run is in progress on this name (its
    pending summary stays: that run commits or records its own failure)."""
    seen, etag = read_json_versioned(s3, failed["source"]["bucket"], summary_key)
    seen = seen if isinstance(seen, dict) else {}
    ours = seen.get("run_id") == failed["run_id"]
    if seen.get("status") == "pending" and not ours:
        return False
    if ours and failed["started_at"] is None:  # the plan failed: its pending summary knows
        failed["started_at"] = seen.get("started_at")
    return summaries.record_failure(s3, summary_key, failed, etag)


def _cause(cause) -> str:
    """Step Functions passes a Lambda error's Cause as the JSON of its payload."""
    if isinstance(cause, str):
        try:
            cause = json.loads(cause)
        except ValueError:
            return cause[:1000]
    if isinstance(cause, dict):
        return str(cause.get("errorMessage") or cause)[:1000]
    return str(cause)[:1000]


def _since(iso: str) -> float:
    return (datetime.now(UTC) - datetime.fromisoformat(iso)).total_seconds()
