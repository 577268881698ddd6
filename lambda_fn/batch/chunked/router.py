"""Files too large for one invocation routed to the scoring state machine,
and the state machine's tasks dispatched.

The whole-file path keeps every file up to Config.inplace_max_bytes, and
every file it would reject at the header (that takes it milliseconds,
whatever the size). A larger plain CSV starts one execution of the state
machine, named from the bucket, key, version (or ETag) and model version, so
that a redelivered notification finds the execution already there and starts
none. Gzip cannot be cut into byte ranges (a range of a gzip stream cannot be
decompressed on its own), so a .csv.gz is always scored in one invocation, up
to Config.gzip_max_bytes compressed; a larger one is rejected with a summary
saying so.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re

import lambda_fn.batch.summary as summaries
from contract import csv_sniff
from lambda_fn.batch.chunked.merge import begin_run, fail_task, merge_task
from lambda_fn.batch.chunked.plan import plan_task
from lambda_fn.batch.chunked.range_job import score_range_task
from lambda_fn.batch.csv_reader import READ_ERRORS, Records
from lambda_fn.batch.keys import output_keys
from lambda_fn.batch.s3_io import S3Writer, open_object, put_json
from lambda_fn.batch.scoring import ERROR_HEADER, header_problems
from lambda_fn.config import Config
from lambda_fn.model import Model


def execution_name(bucket: str, key: str, version: str, model_version: str) -> str:
    """At most 80 characters of [A-Za-z0-9_-]: the key's last part to read, and
    a hash of everything that makes the run distinct."""
    digest = hashlib.sha256("\0".join((bucket, key, version, model_version)).encode())
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", key.rsplit("/", 1)[-1])[:47].strip("-")
    return f"{readable or 'file'}-{digest.hexdigest()[:32]}"


def route(s3, bucket: str, key: str, model: Model, config: Config, sfn=None):
    """None when the whole-file path scores this object; else what was done
    instead (an execution started or found, or a gzip file rejected)."""
    if not config.state_machine_arn:
        return None
    head = s3.head_object(Bucket=bucket, Key=key)
    size = head["ContentLength"]
    if key.lower().endswith(".gz"):
        if size <= config.gzip_max_bytes:
            return None
        return _reject_gzip(s3, bucket, key, head, model, config)
    if size <= config.inplace_max_bytes or _rejected_at_header(s3, bucket, key, model):
        return None
    etag = head["ETag"].strip('"')
    version = head.get("VersionId") or ""
    run = execution_name(bucket, key, version or etag, model.version)
    execution = {"bucket": bucket, "key": key, "etag": etag, "version": version, "run": run}
    sfn = sfn or _stepfunctions()
    result = {"key": key, "status": "chunked", "run": run, "bytes": size}
    try:
        started = sfn.start_execution(
            stateMachineArn=config.state_machine_arn, name=run, input=json.dumps(execution)
        )
        result["execution_arn"] = started["executionArn"]
    except sfn.exceptions.ExecutionAlreadyExists:
        result["duplicate_delivery"] = True
    return result


def handle_task(event: dict, model: Model, config: Config, s3) -> dict:
    """One state machine task (events.check_task has validated the event)."""
    staging = config.staging_prefix
    task = event["task"]
    if task == "plan":
        pending = begin_run(s3, event, config, model.version, model.threshold)
        return plan_task(s3, event, staging, config.range_bytes, model.version, pending)
    if task == "score-range":
        return score_range_task(s3, event, model, config, staging)
    if task == "merge":
        return merge_task(s3, event, config, staging, model.threshold)
    return fail_task(s3, event, config, staging, model.version, model.threshold)


def _rejected_at_header(s3, bucket: str, key: str, model: Model) -> bool:
    """Whether the whole-file path rejects this object at its first bytes."""
    binary = open_object(s3, bucket, key)
    try:
        if csv_sniff.header_problem(binary.peek(), model.schema.names):
            return True
        _, header = Records(binary).header()
    except READ_ERRORS:
        return True
    finally:
        binary.close()
    return bool(header_problems(header, model))


def _reject_gzip(s3, bucket: str, key: str, head: dict, model: Model, config: Config) -> dict:
    reason = (
        f"the file is gzip-compressed and {head['ContentLength']:,} bytes, over the "
        f"{config.gzip_max_bytes:,}-byte limit for gzip (GZIP_MAX_BYTES): a gzip stream "
        "cannot be split for parallel scoring, so upload it uncompressed (.csv) to have it "
        "scored in parallel ranges"
    )
    keys = output_keys(key, config)
    errors = S3Writer(s3, bucket, keys["errors"], config.part_bytes, "text/csv")
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([ERROR_HEADER, [1, "", "", reason]])
    errors.write(text.getvalue().encode())
    errors.close()
    source = summaries.source_of(bucket, key, head)
    run = summaries.Run(
        source, model.version, model.threshold, summaries.new_run_id(), summaries.now()
    )
    summary = summaries.document(
        run,
        "rejected",
        reason=reason,
        outputs={"errors": keys["errors"]},
        rows_in=0,
        rows_scored=0,
        rows_rejected=0,
    )
    put_json(s3, bucket, keys["summary"], summary)
    summary["outputs"]["summary"] = keys["summary"]
    return summary


_sfn = None


def _stepfunctions():
    """Created on first use, as app.s3_client is."""
    global _sfn
    if _sfn is None:
        import boto3

        _sfn = boto3.client("stepfunctions")
    return _sfn
