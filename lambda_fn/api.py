"""HTTP routes: POST /predict, GET /schema, GET /health, GET /openapi.json.

Both API Gateway flavours are served: REST API (v1 proxy events) and HTTP API
(v2). The routes are plain functions of (model, config, request parts) so
tests call them directly; the Powertools resolvers only route.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from aws_lambda_powertools.event_handler import (
    APIGatewayHttpResolver,
    APIGatewayRestResolver,
    Response,
)

from lambda_fn.config import Config
from lambda_fn.model import Model
from lambda_fn.validation import echo, loads, records_to_columns

JSON = "application/json"
# Every answer stays under this (what the fuzzer checks): an error lists at
# most MAX_PROBLEMS problems, and echoes no more than a few names.
MAX_RESPONSE_BYTES = 64 * 1024
MAX_PROBLEMS = 100
MAX_ECHOED_NAMES = 5


@dataclass
class Outcome:
    """A response plus what the metrics need to know about it."""

    status: int
    body: dict
    scored: int = 0
    rejected: int = 0
    mean_probability: float | None = None
    positive_rate: float | None = None
    seconds: float = 0.0


def error(status: int, message: str, problems: list | None = None) -> Outcome:
    body = {"message": message}
    if problems is not None:
        body["errors"] = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            body["errors_truncated"] = f"the first {MAX_PROBLEMS} of {len(problems)} problems"
    return Outcome(status, body)


def predict(model: Model, config: Config, body: str | None, content_type: str | None) -> Outcome:
    started = time.perf_counter()
    if content_type and content_type.split(";")[0].strip().lower() != JSON:
        return error(415, f"content type must be {JSON}, got {content_type!r}")
    if body is None or not body.strip():
        return error(400, 'empty body; send {"records": [{...}]}')
    size = len(body) if body.isascii() else len(body.encode("utf-8", "surrogatepass"))
    if size > config.max_body_bytes:
        return error(413, f"body is {size} bytes; the limit is {config.max_body_bytes}")
    try:
        payload = loads(body)
    except (ValueError, RecursionError) as exc:
        return error(400, f"body is not valid JSON: {str(exc)[:200]}")
    if not isinstance(payload, dict):
        return error(400, 'body must be a JSON object like {"records": [...]}')
    if "records" not in payload:
        return error(400, 'missing "records": send {"records": [{...}]}')
    unknown = [k for k in payload if k != "records"]
    if unknown:
        names = ", ".join(repr(echo(k)) for k in unknown[:MAX_ECHOED_NAMES])
        more = (
            f" and {len(unknown) - MAX_ECHOED_NAMES} more"
            if len(unknown) > MAX_ECHOED_NAMES
            else ""
        )
        return error(400, f'unknown top-level field(s): {names}{more}; send only "records"')
    records = payload["records"]
    if not isinstance(records, list):
        return error(400, '"records" must be an array of objects')
    if not records:
        return error(400, f'"records" is empty; send 1 to {config.max_records} records')
    if len(records) > config.max_records:
        return error(413, f"{len(records)} records; the limit is {config.max_records} per request")
    columns, problems = records_to_columns(records, model.schema)
    if problems:
        outcome = error(
            400,
            f"{len(problems)} problem(s) in the records; nothing was scored",
            [p.to_dict() for p in problems],
        )
        outcome.rejected = len({p.record for p in problems})
        return outcome
    probability, label = model.predict(columns)
    negative, positive = model.labels
    names = (negative, positive)
    predictions = [
        {"probability": round(float(p), 7), "label": names[int(k)]}
        for p, k in zip(probability.tolist(), label.tolist(), strict=True)
    ]
    return Outcome(
        200,
        {"model_version": model.version, "threshold": model.threshold, "predictions": predictions},
        scored=len(predictions),
        mean_probability=float(probability.sum()) / len(predictions),
        positive_rate=int(label.sum()) / len(predictions),
        seconds=time.perf_counter() - started,
    )


def health(model: Model) -> Outcome:
    return Outcome(200, {"status": "ok", "model_version": model.version})


def schema(model: Model) -> Outcome:
    return Outcome(200, model.describe())


def _response(outcome: Outcome) -> Response:
    return Response(
        status_code=outcome.status,
        content_type=JSON,
        body=json.dumps(outcome.body, separators=(",", ":")),
    )


class Resolvers:
    """The Powertools resolvers, one set per thread.

    A resolver keeps the event it is resolving on itself (current_event),
    so one shared by threads (a local server, a thread pool) can answer one
    request with another's event. Each thread builds its own set on first
    use; `resolvers[flavour]` is the calling thread's."""

    def __init__(self, get_model, get_config, on_outcome):
        self._routes = (get_model, get_config, on_outcome)
        self._local = threading.local()

    def __getitem__(self, flavour: str):
        built = getattr(self._local, "resolvers", None)
        if built is None:
            built = self._local.resolvers = _build(*self._routes)
        return built[flavour]


def build_resolvers(get_model, get_config, on_outcome) -> Resolvers:
    """One resolver per API Gateway flavour ("v1", "v2"), with the same
    routes, per thread.

    get_model/get_config return the container's model and config; on_outcome
    receives every Outcome (for logs and metrics)."""
    return Resolvers(get_model, get_config, on_outcome)


def _build(get_model, get_config, on_outcome) -> dict:
    resolvers = {"v1": APIGatewayRestResolver(), "v2": APIGatewayHttpResolver()}
    for app in resolvers.values():
        _add_routes(app, get_model, get_config, on_outcome)
    return resolvers


def _add_routes(app, get_model, get_config, on_outcome) -> None:
    @app.post("/predict")
    def _predict():
        event = app.current_event
        try:
            body = event.decoded_body
        except (ValueError, UnicodeDecodeError):
            outcome = error(400, "body is not valid base64-encoded UTF-8")
        else:
            outcome = predict(get_model(), get_config(), body, event.headers.get("content-type"))
        on_outcome("predict", outcome)
        return _response(outcome)

    @app.get("/schema")
    def _schema():
        outcome = schema(get_model())
        on_outcome("schema", outcome)
        return _response(outcome)

    @app.get("/openapi.json")
    def _openapi():
        from lambda_fn import openapi  # built on first request, not at cold start

        outcome = Outcome(200, openapi.document(get_model(), get_config()))
        on_outcome("openapi", outcome)
        return _response(outcome)

    @app.get("/health")
    def _health():
        outcome = health(get_model())
        on_outcome("health", outcome)
        return _response(outcome)

    @app.not_found
    def _not_found(_exc):
        return _response(
            error(
                404, "no such route; use POST /predict, GET /schema, GET /health, GET /openapi.json"
            )
        )
