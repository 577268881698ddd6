"""The API's OpenAPI 3.1 document, generated from the model's schema.

`python -m export` writes it beside the model and the function serves it at
GET /openapi.json, so that clients can be generated and standard tools can
test the API. Standard library only; built on first request, never at import.
"""

from __future__ import annotations

import json
import threading

from contract import explain_schema
from contract.cells import FLOAT32_MAX, MISSING_CATEGORY
from contract.schema import CATEGORICAL
from lambda_fn.config import Config
from lambda_fn.model import Model

OPENAPI_VERSION = "3.1.0"
# Largest magnitude a float32 input holds; the API rejects larger numbers.
# Categories listed in a description, at most (a code-like column may have thousands).
MAX_LISTED_CATEGORIES = 200

_cache: dict[tuple, dict] = {}
_lock = threading.Lock()


def document(model: Model, config: Config) -> dict:
    """The document for this model and these limits, built once per container."""
    key = (model.version, config.max_records, config.max_body_bytes)
    found = _cache.get(key)
    if found is None:
        with _lock:
            found = _cache.get(key)
            if found is None:
                found = _cache[key] = build(model, config)
    return found


def to_json(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _error_schema() -> dict:
    return {
        "type": "object",
        "description": "Every error answer, from the function or from API Gateway.",
        "required": ["message"],
        "properties": {
            "message": {"type": "string", "description": "What is wrong, in one sentence."},
            "errors": {
                "type": "array",
                "description": "Present when records fail validation: one entry per problem; "
                "nothing was scored.",
                "items": {
                    "type": "object",
                    "required": ["record", "field", "message"],
                    "properties": {
                        "record": {
                            "type": "integer",
                            "minimum": 0,
                            "description": "0-based index of the record in `records`.",
                        },
                        "field": {
                            "type": ["string", "null"],
                            "description": "The feature (property) at fault; null when the "
                            "whole record is (e.g. not an object).",
                        },
                        "message": {"type": "string"},
                    },
                    "additionalProperties": False,
                },
            },
        },
        "additionalProperties": False,
    }


def _feature_schema(feature) -> dict:
    missing = "null means missing." if feature.missing_allowed else "Missing is not allowed."
    if feature.kind == CATEGORICAL:
        seen = [c for c in feature.categories if c != MISSING_CATEGORY]
        listed = ", ".join(json.dumps(c, ensure_ascii=False) for c in seen[:MAX_LISTED_CATEGORIES])
        more = (
            f" and {len(seen) - MAX_LISTED_CATEGORIES} more"
            if len(seen) > MAX_LISTED_CATEGORIES
            else ""
        )
        schema = {
            "type": ["string", "null"] if feature.missing_allowed else "string",
            "description": (
                f"Categorical. Seen in training: {listed or 'none'}{more}. Other values are "
                "accepted and scored as unseen. Surrounding spaces are ignored, and the "
                "empty string, NA, N/A and null spelled out are read as missing, as in a CSV. "
                + missing
            ),
        }
        if seen:
            schema["examples"] = seen[:3]
        return schema
    return {
        "type": ["number", "null"] if feature.missing_allowed else "number",
        "minimum": -FLOAT32_MAX,
        "maximum": FLOAT32_MAX,
        "description": 'Numeric, read as float32 (a numeric string such as "41" is read '
        "too). " + missing,
    }


def _error_response(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def build(model: Model, config: Config) -> dict:
    """The whole document, from the model's schema and metadata and the limits in `config`."""
    schema = model.schema
    negative, positive = model.labels
    features = {f.name: _feature_schema(f) for f in schema.features}
    record = {
        "type": "object",
        "description": "One row to score: one property per feature column, named as in the "
        "training CSV. Every property is required (send null where missing is allowed).",
        "properties": features,
        "required": schema.names,
        "additionalProperties": False,
    }
    example = schema.example_record()
    predict_request = {
        "type": "object",
        "required": ["records"],
        "properties": {
            "records": {
                "type": "array",
                "minItems": 1,
                "maxItems": config.max_records,
                "description": f"1 to {config.max_records} records per request; the body may "
                f"hold at most {config.max_body_bytes} bytes.",
                "items": {"$ref": "#/components/schemas/Record"},
            }
        },
        "additionalProperties": False,
        "examples": [{"records": [example]}],
    }
    prediction = {
        "type": "object",
        "required": ["probability", "label"],
        "properties": {
            "probability": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": f"Probability of {positive!r} (the positive class), rounded to "
                "7 decimals.",
            },
            "label": {
                "type": "string",
                "enum": [negative, positive],
                "description": f"{positive!r} when probability >= threshold "
                f"({model.threshold:.6g}), else {negative!r}.",
            },
        },
        "additionalProperties": False,
    }
    predict_response = {
        "type": "object",
        "required": ["model_version", "threshold", "predictions"],
        "properties": {
            "model_version": {
                "type": "string",
                "description": f"Version (content hash) of the model that answered; this "
                f"document is for {model.version}.",
            },
            "threshold": {"type": "number", "minimum": 0, "maximum": 1},
            "predictions": {
                "type": "array",
                "description": "One per record, in the order of `records`.",
                "items": {"$ref": "#/components/schemas/Prediction"},
            },
        },
        "additionalProperties": False,
    }
    explain_schema.add_to_openapi(model.metadata, predict_request, prediction, predict_response)
    feature_description = {
        "type": "object",
        "required": ["name", "kind", "missing_allowed"],
        "properties": {
            "name": {"type": "string"},
            "kind": {"type": "string", "enum": ["numeric", "categorical"]},
            "missing_allowed": {"type": "boolean"},
            "categories": {"type": "array", "items": {"type": "string"}},
        },
    }
    model_description = {
        "type": "object",
        "required": ["model_version", "threshold", "labels", "features", "example_record"],
        "properties": {
            "model_version": {"type": "string"},
            "threshold": {"type": "number"},
            "labels": {
                "type": "object",
                "required": ["negative", "positive"],
                "properties": {"negative": {"type": "string"}, "positive": {"type": "string"}},
            },
            "features": {"type": "array", "items": {"$ref": "#/components/schemas/Feature"}},
            "example_record": {"$ref": "#/components/schemas/Record"},
            "learner": {"type": "string"},
            "strategy": {"type": "string"},
            "trained_at": {"type": "string"},
            "training_data_sha256": {"type": "string"},
            "test_metrics": {"type": "object", "additionalProperties": {"type": "number"}},
        },
    }
    health = {
        "type": "object",
        "required": ["status", "model_version"],
        "properties": {
            "status": {"type": "string", "const": "ok"},
            "model_version": {"type": "string"},
        },
        "additionalProperties": False,
    }
    gateway = {
        "403": _error_response(
            "Deployed API only: the request is not signed with SigV4, or the caller may not "
            "invoke the API (API Gateway answers, the function is not called)."
        ),
        "429": _error_response(
            "Deployed API only: API Gateway's rate limit was reached; retry with backoff."
        ),
    }

    def json_response(description: str, ref: str) -> dict:
        return {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
        }

    metrics = model.metadata.get("test_metrics")
    info_model = {
        "version": model.version,
        "threshold": model.threshold,
        "labels": {"negative": negative, "positive": positive},
        "target": schema.target,
    }
    for key in ("learner", "strategy", "trained_at", "training_data_sha256"):
        if key in model.metadata:
            info_model[key] = model.metadata[key]
    if metrics:
        info_model["test_metrics"] = json.loads(metrics)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": f"Imbalanced classifier: {schema.target}",
            "version": model.version,
            "summary": f"Scores records: probability of {positive!r} and a {negative!r}/"
            f"{positive!r} label.",
            "description": (
                f"Model version {model.version}; decision threshold {model.threshold:.6g}; "
                f"labels {negative!r} (negative) and {positive!r} (positive); "
                f"target column {schema.target!r}. The deployed API needs requests signed "
                "with AWS SigV4 (service execute-api); see docs/api.md."
            ),
            "x-model": info_model,
        },
        "servers": [
            {
                "url": "https://{apiId}.execute-api.{region}.amazonaws.com",
                "description": "The deployed HTTP API (the stack's ApiUrl output).",
                "variables": {
                    "apiId": {"default": "abc123defg"},
                    "region": {"default": "us-east-1"},
                },
            },
            {"url": "http://127.0.0.1:8000", "description": "make serve"},
        ],
        "security": [{"sigv4": []}],
        "paths": {
            "/predict": {
                "post": {
                    "operationId": "predict",
                    "summary": "Score 1 to max records",
                    "description": "All records are validated first; if any is invalid nothing "
                    "is scored and the answer is 400 with every problem listed.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/PredictRequest"}
                            }
                        },
                    },
                    "responses": {
                        "200": json_response("One prediction per record.", "PredictResponse"),
                        "400": _error_response(
                            'The body is not JSON, not {"records": [...]}, or records fail '
                            "validation (`errors` names each record and field)."
                        ),
                        "413": _error_response(
                            f"More than {config.max_records} records, or a body over "
                            f"{config.max_body_bytes} bytes."
                        ),
                        "415": _error_response("Content-Type is not application/json."),
                        **gateway,
                    },
                }
            },
            "/schema": {
                "get": {
                    "operationId": "getSchema",
                    "summary": "The model's features, labels, threshold and provenance",
                    "responses": {
                        "200": json_response("The model's description.", "ModelDescription"),
                        **gateway,
                    },
                }
            },
            "/health": {
                "get": {
                    "operationId": "health",
                    "summary": "Liveness, with the model version",
                    "responses": {
                        "200": json_response("The model is loaded.", "Health"),
                        **gateway,
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenapi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document of this model's API.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **gateway,
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "PredictRequest": predict_request,
                "Record": record,
                "PredictResponse": predict_response,
                "Prediction": prediction,
                "Error": _error_schema(),
                "ModelDescription": model_description,
                "Feature": feature_description,
                "Health": health,
            },
            "securitySchemes": {
                "sigv4": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "description": "AWS Signature Version 4 (IAM), service execute-api: sign "
                    "with botocore's SigV4Auth or awscurl. make serve does not check it.",
                    "x-amazon-apigateway-authtype": "awsSigv4",
                }
            },
        },
    }
