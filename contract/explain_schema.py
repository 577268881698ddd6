"""The OpenAPI pieces of reason codes: `explain` in the request, `reasons` in
each prediction, `explanation_base` in the answer. Standard library only, so
the API document can be built wherever it lives; the model's metadata says
which columns can be reasons (its `explanation` entry, written by export)."""

from __future__ import annotations

import json

MAX_EXPLAIN = 1000


def _columns(metadata: dict) -> list[dict] | None:
    text = metadata.get("explanation")
    return json.loads(text)["features"] if text else None


def add_to_openapi(metadata: dict, request: dict, prediction: dict, response: dict) -> None:
    """Adds the reason-code properties to the PredictRequest, Prediction and
    PredictResponse schemas (in place)."""
    columns = _columns(metadata)
    if columns is None:
        request["properties"]["explain"] = {
            "type": "integer",
            "minimum": 0,
            "maximum": 0,
            "description": "This model has no reason codes: any value above 0 is a 400.",
        }
        return
    request["properties"]["explain"] = {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_EXPLAIN,
        "default": 0,
        "description": "Return each prediction's top K reasons (largest |contribution| first); "
        f"0 or absent for none. This model has {len(columns)} columns that can be reasons.",
    }
    prediction["properties"]["reasons"] = {
        "type": "array",
        "maxItems": len(columns),
        "description": 'Present when "explain" > 0: contributions on the log-odds scale; '
        "explanation_base plus all of them is logit(probability).",
        "items": {
            "type": "object",
            "required": ["feature", "contribution"],
            "properties": {
                "feature": {"type": "string", "enum": [c["name"] for c in columns]},
                "contribution": {"type": "number"},
                "inputs": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "For a derived feature: the raw columns it is computed from.",
                },
            },
            "additionalProperties": False,
        },
    }
    prediction["properties"]["explanation_residual"] = {
        "type": "number",
        "description": "An ensemble's logit(probability) minus base and contributions "
        "(it averages probabilities, not log-odds).",
    }
    response["properties"]["explanation_base"] = {
        "type": "number",
        "description": 'Present when "explain" > 0: the expected log-odds the reasons start from.',
    }
