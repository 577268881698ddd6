"""GET /openapi.json: contract/openapi.py's document for the loaded model and
the function's limits, built on first request (never at import) and once per
container."""

from __future__ import annotations

import threading

from contract import openapi
from lambda_fn.config import Config
from lambda_fn.model import Model

_cache: dict[tuple, dict] = {}
_lock = threading.Lock()


def document(model: Model, config: Config) -> dict:
    key = (model.version, config.max_records, config.max_body_bytes)
    found = _cache.get(key)
    if found is None:
        with _lock:
            found = _cache.get(key)
            if found is None:
                found = _cache[key] = build(model, config)
    return found


def build(model: Model, config: Config) -> dict:
    return openapi.build(model.schema, model.metadata, config.max_records, config.max_body_bytes)
