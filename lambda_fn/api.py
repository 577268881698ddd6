"""HTTP routes: POST /predict, GET /schema, GET /health, GET /openapi.json.

Both API Gateway flavours are served: REST API (v1 proxy events) and HTTP API
(v2), and Function URLs (gateway.py reads the events). The routes are plain
functions of (model, config, request parts) so tests call them directly.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from lambda_fn import reasons
from lambda_fn.config import Config
from lambda_fn.gateway import JSON, BodyError, Request
from lambda_fn.model import Model
from lambda_fn.validation import echo, loads, records_to_columns

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
    headers: dict | None = None  # beyond Content-Type


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
    unknown = [k for k in payload if k not in ("records", "explain")]
    if unknown:
        names = ", ".join(repr(echo(k)) for k in unknown[:MAX_ECHOED_NAMES])
        more = (
            f" and {len(unknown) - MAX_ECHOED_NAMES} more"
            if len(unknown) > MAX_ECHOED_NAMES
            else ""
        )
        return error(
            400,
            f'unknown top-level field(s): {names}{more}; send "records" and optionally "explain"',
        )
    try:
        explain = reasons.requested(model, payload)
    except reasons.ExplainError as exc:
        return error(400, str(exc))
    records = payload["records"]
    if not isinstance(records, list):
        return error(400, '"records" must be an array of objects')
    if not records:
        return error(400, f'"records" is empty; send 1 to {config.max_records} records')
    if len(records) > config.max_records:
        # 400, not 413: the contract's maxItems says so (413 is the byte limit,
        # which a JSON Schema cannot state), and schema-invalid is 400 to clients.
        return error(
            400, f'"records" holds {len(records)}; the limit is {config.max_records} per request'
        )
    columns, problems = records_to_columns(records, model.schema)
    if problems:
        outcome = error(
            400,
            f"{len(problems)} problem(s) in the records; nothing was scored",
            [p.to_dict() for p in problems],
        )
        outcome.rejected = len({p.record for p in problems})
        return outcome
    if explain:
        probability, label, contributions = reasons.score(model, columns)
    else:
        probability, label = model.predict(columns)
    negative, positive = model.labels
    names = (negative, positive)
    predictions = [
        {"probability": round(float(p), 7), "label": names[int(k)]}
        for p, k in zip(probability.tolist(), label.tolist(), strict=True)
    ]
    answer = {"model_version": model.version, "threshold": model.threshold}
    if explain:
        answer.update(reasons.attach(model, predictions, probability, contributions, explain))
    return Outcome(
        200,
        {**answer, "predictions": predictions},
        scored=len(predictions),
        mean_probability=float(probability.sum()) / len(predictions),
        positive_rate=int(label.sum()) / len(predictions),
        seconds=time.perf_counter() - started,
    )


def health(model: Model) -> Outcome:
    return Outcome(200, {"status": "ok", "model_version": model.version})


def schema(model: Model) -> Outcome:
    return Outcome(200, model.describe())


def openapi_document(model: Model, config: Config) -> Outcome:
    from lambda_fn import openapi  # built on first request, not at cold start

    return Outcome(200, openapi.document(model, config))


ROUTES = {
    "/predict": ("POST", "predict"),
    "/schema": ("GET", "schema"),
    "/health": ("GET", "health"),
    "/openapi.json": ("GET", "openapi"),
}
ROUTE_LIST = ", ".join(f"{method} {path}" for path, (method, _) in ROUTES.items())


def respond(request: Request, model: Model, config: Config) -> tuple[str, Outcome]:
    """(route name, outcome) for one API request; never raises for a client's input."""
    route = ROUTES.get(request.path)
    if route is None:
        return "not-found", error(404, f"no such route; use {ROUTE_LIST}")
    method, name = route
    if request.method != method:
        outcome = error(405, f"{request.path} takes {method}, not {echo(request.method)}")
        outcome.headers = {"Allow": method}
        return name, outcome
    if name == "predict":
        try:
            body = request.body()
        except BodyError as exc:
            return name, error(400, str(exc))
        return name, predict(model, config, body, request.header("content-type"))
    if name == "schema":
        return name, schema(model)
    if name == "health":
        return name, health(model)
    return name, openapi_document(model, config)


def encode(outcome: Outcome) -> str:
    return json.dumps(outcome.body, separators=(",", ":"))
