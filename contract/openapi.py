"""The API's OpenAPI 3.1 document, generated from the model's schema.

`python -m export` writes it beside the model, the function serves it at
GET /openapi.json, and `make serve` serves it rewritten for itself (for_local).
Each feature's value comes from contract/values.py, which the request
validator enforces too. Standard library only, so export writes the document
without importing the serving code.
"""

from __future__ import annotations

import copy
import json

from contract import explain_schema
from contract.cells import MISSING_CATEGORY
from contract.kinds import PARSED_KINDS
from contract.schema import CATEGORICAL, KINDS, Feature, Schema
from contract.values import value_schema

OPENAPI_VERSION = "3.1.0"
# Categories listed in a description, at most (a code-like column may have thousands).
MAX_LISTED_CATEGORIES = 200
# The function's default limits (lambda_fn.config.Config; a test keeps them equal).
DEFAULT_MAX_RECORDS = 1000
DEFAULT_MAX_BODY_BYTES = 5_500_000
# Answers API Gateway gives before the function is called: not make serve's.
GATEWAY_STATUSES = ("403", "429")


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


def _feature_schema(feature: Feature) -> dict:
    """values.value_schema plus what a reader needs to know."""
    schema = value_schema(feature)
    if feature.kind in PARSED_KINDS:  # its description comes with it (contract/kinds.py)
        return schema
    if feature.kind == CATEGORICAL:
        seen = [c for c in feature.categories if c != MISSING_CATEGORY]
        listed = ", ".join(json.dumps(c, ensure_ascii=False) for c in seen[:MAX_LISTED_CATEGORIES])
        more = len(seen) - MAX_LISTED_CATEGORIES
        missing = (
            "null means missing."
            if feature.missing_allowed
            else "null is not allowed (training saw no missing value); the missing tokens "
            "are still read as missing and scored as an unseen category."
        )
        schema["description"] = (
            f"Categorical, a string (numbers are refused: send the category's text, e.g. "
            f'"0" for 0). Seen in training: {listed or "none"}'
            f"{f' and {more} more' if more > 0 else ''}. Other values are accepted and "
            "scored as unseen. Surrounding spaces are ignored, and the empty string, NA, N/A "
            "and null spelled out are read as missing, as in a CSV. " + missing
        )
        if seen:
            schema["examples"] = seen[:3]
        return schema
    schema["description"] = (
        "Numeric, read as float32: a JSON number within float32's range, or a decimal string "
        'such as "41" or "-1.5e3" (the pattern: at most 29 digits before the point and a '
        "one-digit exponent). "
        + ("null means missing." if feature.missing_allowed else "Missing is not allowed.")
    )
    return schema


def _error_response(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json_response(description: str, ref: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


def _request_schemas(schema: Schema, max_records: int, max_body_bytes: int) -> dict:
    record = {
        "type": "object",
        "description": "One row to score: one property per feature column, named as in the "
        "training CSV. Every property is required (send null where missing is allowed).",
        "properties": {f.name: _feature_schema(f) for f in schema.features},
        "required": schema.names,
        "additionalProperties": False,
    }
    predict_request = {
        "type": "object",
        "required": ["records"],
        "properties": {
            "records": {
                "type": "array",
                "minItems": 1,
                "maxItems": max_records,
                "description": f"1 to {max_records} records per request; the body may "
                f"hold at most {max_body_bytes} bytes.",
                "items": {"$ref": "#/components/schemas/Record"},
            }
        },
        "additionalProperties": False,
        "examples": [{"records": [schema.example_record()]}],
    }
    return {"PredictRequest": predict_request, "Record": record}


def _answer_schemas(schema: Schema, threshold: float, version: str) -> dict:
    negative, positive = schema.negative_label, schema.positive_label
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
                f"({threshold:.6g}), else {negative!r}.",
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
                f"document is for {version}.",
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
    return {"PredictResponse": predict_response, "Prediction": prediction}


def _description_schemas() -> dict:
    feature = {
        "type": "object",
        "required": ["name", "kind", "missing_allowed"],
        "properties": {
            "name": {"type": "string"},
            "kind": {"type": "string", "enum": list(KINDS)},
            "format": {"type": "string"},
            "missing_allowed": {"type": "boolean"},
            "categories": {"type": "array", "items": {"type": "string"}},
        },
    }
    model = {
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
    return {"ModelDescription": model, "Feature": feature, "Health": health}


def _paths(max_records: int, max_body_bytes: int) -> dict:
    gateway = {
        "403": _error_response(
            "Deployed API only: the request is not signed with SigV4, or the caller may not "
            "invoke the API (API Gateway answers, the function is not called)."
        ),
        "429": _error_response(
            "Deployed API only: API Gateway's rate limit was reached; retry with backoff."
        ),
    }
    predict = {
        "operationId": "predict",
        "summary": "Score 1 to max records",
        "description": "All records are validated first; if any is invalid nothing "
        "is scored and the answer is 400 with every problem listed.",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/PredictRequest"}}
            },
        },
        "responses": {
            "200": _json_response("One prediction per record.", "PredictResponse"),
            "400": _error_response(
                'The body is not JSON, not {"records": [...]}, holds more than '
                f"{max_records} records, or records fail validation (`errors` names each "
                "record and field)."
            ),
            "413": _error_response(f"The body is over {max_body_bytes} bytes."),
            "415": _error_response("Content-Type is not application/json."),
            **gateway,
        },
    }
    document = {
        "description": "The OpenAPI document of this model's API.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
    gets = {
        "/schema": (
            "getSchema",
            "The model's features, labels, threshold and provenance",
            _json_response("The model's description.", "ModelDescription"),
        ),
        "/health": (
            "health",
            "Liveness, with the model version",
            _json_response("The model is loaded.", "Health"),
        ),
        "/openapi.json": ("getOpenapi", "This document", document),
    }
    paths = {"/predict": {"post": predict}}
    for path, (operation, summary, ok) in gets.items():
        paths[path] = {
            "get": {
                "operationId": operation,
                "summary": summary,
                "responses": {"200": ok, **gateway},
            }
        }
    return paths


def _info(schema: Schema, metadata: dict, threshold: float, version: str) -> dict:
    negative, positive = schema.negative_label, schema.positive_label
    info_model = {
        "version": version,
        "threshold": threshold,
        "labels": {"negative": negative, "positive": positive},
        "target": schema.target,
    }
    for key in ("learner", "strategy", "trained_at", "training_data_sha256"):
        if key in metadata:
            info_model[key] = metadata[key]
    if metadata.get("test_metrics"):
        info_model["test_metrics"] = json.loads(metadata["test_metrics"])
    return {
        "title": f"Imbalanced classifier: {schema.target}",
        "version": version,
        "summary": f"Scores records: probability of {positive!r} and a {negative!r}/"
        f"{positive!r} label.",
        "description": (
            f"Model version {version}; decision threshold {threshold:.6g}; "
            f"labels {negative!r} (negative) and {positive!r} (positive); "
            f"target column {schema.target!r}. The deployed API needs requests signed "
            "with AWS SigV4 (service execute-api); see docs/api.md."
        ),
        "x-model": info_model,
    }


def build(
    schema: Schema,
    metadata: dict,
    max_records: int = DEFAULT_MAX_RECORDS,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> dict:
    """The deployed API's document, from the model's schema and its ONNX metadata
    (`model_version`, `threshold`, provenance) and the function's limits."""
    version = metadata["model_version"]
    threshold = float(metadata["threshold"])
    schemas = {
        **_request_schemas(schema, max_records, max_body_bytes),
        **_answer_schemas(schema, threshold, version),
    }
    explain_schema.add_to_openapi(
        metadata, schemas["PredictRequest"], schemas["Prediction"], schemas["PredictResponse"]
    )
    return {
        "openapi": OPENAPI_VERSION,
        "info": _info(schema, metadata, threshold, version),
        "servers": [
            {
                "url": "https://{apiId}.execute-api.{region}.amazonaws.com",
                "description": "The deployed HTTP API (the stack's ApiUrl output).",
                "variables": {
                    "apiId": {"default": "abc123defg"},
                    "region": {"default": "us-east-1"},
                },
            }
        ],
        "security": [{"sigv4": []}],
        "paths": _paths(max_records, max_body_bytes),
        "components": {
            "schemas": {
                **schemas,
                "Error": _error_schema(),
                **_description_schemas(),
            },
            "securitySchemes": {
                "sigv4": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "description": "AWS Signature Version 4 (IAM), service execute-api: sign "
                    "with botocore's SigV4Auth or awscurl.",
                    "x-amazon-apigateway-authtype": "awsSigv4",
                }
            },
        },
    }


def for_local(doc: dict, url: str) -> dict:
    """The document as `make serve` serves it: that server is its only server,
    and it neither asks for SigV4 nor answers API Gateway's 403 and 429."""
    local = copy.deepcopy(doc)
    local["servers"] = [{"url": url, "description": "make serve (local, unauthenticated)"}]
    local.pop("security", None)
    local["components"].pop("securitySchemes", None)
    for item in local["paths"].values():
        for operation in item.values():
            for status in GATEWAY_STATUSES:
                operation["responses"].pop(status, None)
    local["info"]["description"] = local["info"]["description"].replace(
        "The deployed API needs requests signed with AWS SigV4 (service execute-api)",
        "This is make serve's document: no authentication, for development only",
    )
    return local
