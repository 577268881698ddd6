"""Lambda entry point: `lambda_fn.app.handler`.

A thin router. API Gateway events (REST v1 or HTTP v2) go to the routes in
api.py, S3 ObjectCreated events to batch.py. The model is loaded once per
container, at init, from MODEL_PATH (default: the file baked into the image)
or MODEL_S3_URI.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from lambda_fn import api
from lambda_fn.config import Config
from lambda_fn.model import Model

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "imbalanced-classifier")
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(
    namespace=os.environ.get("METRICS_NAMESPACE", "ImbalancedClassifier"), service=SERVICE
)

CONFIG = Config.from_env()
MODEL = Model.load(os.environ.get("MODEL_PATH"), os.environ.get("MODEL_S3_URI"))
logger.append_keys(model_version=MODEL.version)
_s3_client = None


def use_model(model: Model, config: Config | None = None) -> None:
    """Swap the container's model (tests, local tools)."""
    global MODEL, CONFIG
    MODEL = model
    if config is not None:
        CONFIG = config
    logger.append_keys(model_version=model.version)


def s3_client():
    """Created on first use: only the S3 path pays for boto3's import."""
    global _s3_client
    if _s3_client is None:
        import boto3

        _s3_client = boto3.client("s3")
    return _s3_client


def _record(route: str, outcome: api.Outcome) -> None:
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    if route == "predict":
        metrics.add_metric(name="RecordsScored", unit=MetricUnit.Count, value=outcome.scored)
        metrics.add_metric(name="RecordsRejected", unit=MetricUnit.Count, value=outcome.rejected)
        if outcome.status == 200:
            metrics.add_metric(
                name="LatencyMs", unit=MetricUnit.Milliseconds, value=outcome.seconds * 1000
            )
            metrics.add_metric(
                name="MeanProbability", unit=MetricUnit.NoUnit, value=outcome.mean_probability
            )
            metrics.add_metric(
                name="PositiveRate", unit=MetricUnit.NoUnit, value=outcome.positive_rate
            )
    if outcome.status >= 400:
        logger.info(
            "request rejected",
            extra={"route": route, "status": outcome.status, "error": outcome.body.get("message")},
        )


RESOLVERS = api.build_resolvers(lambda: MODEL, lambda: CONFIG, _record)


def _is_s3_event(event) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(records) and all(r.get("eventSource") == "aws:s3" for r in records)


@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event, context):
    metrics.add_dimension(name="model_version", value=MODEL.version)
    if _is_s3_event(event):
        from lambda_fn import batch

        result = batch.handle_event(event, MODEL, CONFIG, s3_client(), log=logger)
        for item in result["files"]:
            if item.get("status") in ("scored", "rejected") and not item.get("duplicate_delivery"):
                metrics.add_metric(
                    name="RecordsScored", unit=MetricUnit.Count, value=item["rows_scored"]
                )
                metrics.add_metric(
                    name="RecordsRejected", unit=MetricUnit.Count, value=item["rows_rejected"]
                )
            logger.info(
                "file processed",
                extra={
                    k: item.get(k)
                    for k in ("key", "status", "rows_in", "rows_scored", "rows_rejected")
                },
            )
        return result
    version = event.get("version") if isinstance(event, dict) else None
    context_id = (
        (event.get("requestContext") or {}).get("requestId") if isinstance(event, dict) else None
    )
    logger.set_correlation_id(context_id)
    resolver = RESOLVERS["v2" if version == "2.0" else "v1"]
    return resolver.resolve(event, context)
