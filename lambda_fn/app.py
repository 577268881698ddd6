"""Lambda entry point: `lambda_fn.app.handler`.

A thin router. API Gateway events (REST v1, HTTP v2, Function URLs) are read
by gateway.py and answered by the routes in api.py, S3 ObjectCreated events to the batch package, and SQS messages
carrying S3 notifications (how the deployed stack delivers them) through
delivery.py to the batch package, one message at a time, and the scoring
state machine's tasks (large files) to batch/chunked.py. Anything else
(events.py decides) is rejected with a logged, named error,
events.UnsupportedEvent. The model is loaded once per container, at init,
from MODEL_PATH (default: the file baked into the image) or MODEL_S3_URI.
"""

from __future__ import annotations

import os

from lambda_fn import api, events, gateway, reasons
from lambda_fn.config import Config
from lambda_fn.model import Model
from lambda_fn.telemetry import Metrics, logger, tracer

CONFIG = Config.from_env()
MODEL = Model.load(os.environ.get("MODEL_PATH"), os.environ.get("MODEL_S3_URI"))
reasons.check_batch_setting(MODEL, CONFIG.explain_top_k)
metrics = Metrics()
metrics.dimensions["model_version"] = MODEL.version
logger.append_keys(model_version=MODEL.version)
_s3_client = None


def use_model(model: Model, config: Config | None = None) -> None:
    """Swap the container's model (tests, local tools)."""
    global MODEL, CONFIG
    MODEL = model
    if config is not None:
        CONFIG = config
    metrics.dimensions["model_version"] = model.version
    logger.append_keys(model_version=model.version)


def s3_client():
    """Created on first use: only the S3 path pays for boto3's import."""
    global _s3_client
    if _s3_client is None:
        import boto3

        tracer().patch(["boto3", "botocore"])
        # Retry mode, attempts and timeouts from the config (botocore retries
        # throttling, 5xx and timeouts with backoff).
        _s3_client = boto3.client("s3", config=CONFIG.botocore_config())
    return _s3_client


def _record(route: str, outcome: api.Outcome) -> None:
    metrics.add("Requests", 1, "Count")
    if route == "predict":
        metrics.add("RecordsScored", outcome.scored, "Count")
        metrics.add("RecordsRejected", outcome.rejected, "Count")
        if outcome.status == 200:
            metrics.add("LatencyMs", outcome.seconds * 1000, "Milliseconds")
            metrics.add("MeanProbability", outcome.mean_probability)
            metrics.add("PositiveRate", outcome.positive_rate)
    if outcome.status >= 400:
        logger.info(
            "request rejected",
            extra={"route": route, "status": outcome.status, "error": outcome.body.get("message")},
        )


def _answer_api(event, http_api: bool) -> dict:
    request = gateway.read_request(event, http_api)
    # Per thread: concurrent requests each log their own request id.
    logger.thread_safe_append_keys(correlation_id=request.request_id)
    route, outcome = api.respond(request, MODEL, CONFIG)
    _record(route, outcome)
    headers = {"Content-Type": gateway.JSON, **(outcome.headers or {})}
    return gateway.response(http_api, outcome.status, api.encode(outcome), headers)


def _score_files(event):
    from lambda_fn import batch

    result = batch.handle_event(event, MODEL, CONFIG, s3_client(), log=logger)
    for item in result["files"]:
        if item.get("status") in ("scored", "rejected") and not item.get("duplicate_delivery"):
            metrics.add("RecordsScored", item["rows_scored"], "Count")
            metrics.add("RecordsRejected", item["rows_rejected"], "Count")
        logger.info(
            "file processed",
            extra={
                k: item.get(k)
                for k in (
                    "key",
                    "status",
                    "rows_in",
                    "rows_scored",
                    "rows_rejected",
                    "duplicate_delivery",
                )
            },
        )
    return result


def _score_queued_files(event, context):
    from lambda_fn import delivery

    return delivery.handle_sqs_event(event, context, _score_files, log=logger)


def _run_task(event):
    from lambda_fn.batch import chunked

    # This invocation's lines only: _route clears them for the next one.
    logger.thread_safe_append_keys(run=event["run"], task=event["task"])
    try:
        result = chunked.handle_task(event, MODEL, CONFIG, s3_client())
    except Exception:
        logger.exception("task failed", extra={"key": event["key"]})
        raise
    logger.info("task done", extra={"key": event["key"], "result": result})
    return result


def _route(event, context):
    # No request id or task of an earlier invocation (on this thread) on this one's lines.
    logger.thread_safe_clear_keys()
    try:
        kind = events.kind_of(event)
    except events.UnsupportedEvent as exc:
        logger.error("event rejected", extra={"reason": str(exc), "event": events.describe(event)})
        raise
    try:
        if kind == events.S3:
            return tracer().capture_method(_score_files)(event)
        if kind == events.SQS:
            return tracer().capture_method(_score_queued_files)(event, context)
        if kind == events.TASK:
            return tracer().capture_method(_run_task)(event)
        if kind == events.S3_TEST:
            logger.info("S3 test event acknowledged", extra={"bucket": event.get("Bucket")})
            return {"status": "test-event"}
        return _answer_api(event, http_api=kind == events.API_V2)
    finally:
        metrics.flush()


# Every log line of an invocation carries cold_start and the request id.
_route_with_context = logger.inject_lambda_context(_route)


def handler(event, context):
    if context is None:  # called directly (tests, local tools): no Lambda context to log
        return _route(event, None)
    return _route_with_context(event, context)
