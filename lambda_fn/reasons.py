"""Reason codes: the graph's `contributions` output as each prediction's top reasons.

The graph computes one contribution per raw column (and per derived
feature) on the log-odds scale; the model's metadata names the columns and
holds the base value, so that base + sum(contributions) = logit(probability).
Serving only sorts them and keeps the top K; it computes them only when a
caller asks (a second output fetched from the same session run).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from contract.explain_schema import MAX_EXPLAIN

CONTRIBUTIONS = "contributions"
# A boolean input with a False default: set it to compute the contributions.
EXPLAIN_INPUT = "__explain__"
# Probabilities are clipped to [LOGIT_CLIP, 1 - LOGIT_CLIP] before their logit
# (a forest's probability can be exactly 0 or 1).
LOGIT_CLIP = 2.0**-24
CONTRIBUTION_DIGITS = 6


class ExplainError(Exception):
    """A request for reasons this model or request cannot have; the message says why."""


@dataclass(frozen=True)
class Explanation:
    names: tuple[str, ...]
    inputs: dict[str, list[str]]
    base: float
    additive: bool

    @classmethod
    def from_metadata(cls, metadata: dict) -> Explanation | None:
        text = metadata.get("explanation")
        if not text:
            return None
        doc = json.loads(text)
        if doc.get("output") != CONTRIBUTIONS:
            return None
        feats = doc["features"]
        return cls(
            tuple(f["name"] for f in feats),
            {f["name"]: list(f["inputs"]) for f in feats if f.get("inputs")},
            float(doc["base"]),
            bool(doc.get("additive", True)),
        )


_CACHE: dict[str, Explanation | None] = {}


def explanation(model) -> Explanation | None:
    """The model's explanation (None: it has no contributions), read once per model version."""
    if model.version not in _CACHE:
        _CACHE[model.version] = Explanation.from_metadata(model.metadata)
    return _CACHE[model.version]


def why_not(model) -> str:
    """Why the model has no contributions, in a phrase."""
    reason = model.metadata.get("explanation_unavailable")
    if reason is None:
        return "this model was exported without contributions (re-export it)"
    return f"{model.metadata.get('learner', 'this')} models are not explained ({reason})"


def unavailable(model) -> str:
    return f'"explain": {why_not(model)}; send "explain": 0 or omit it'


def parse_top_k(value, field: str = '"explain"') -> int:
    """K from a request field or setting: an integer 0..MAX_EXPLAIN, else ExplainError."""
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ExplainError(f"{field} must be an integer from 0 to {MAX_EXPLAIN}")
    if not 0 <= value <= MAX_EXPLAIN:
        raise ExplainError(f"{field} must be an integer from 0 to {MAX_EXPLAIN}, got {value}")
    return int(value)


def logit(p: float) -> float:
    p = min(max(float(p), LOGIT_CLIP), 1.0 - LOGIT_CLIP)
    return math.log(p / (1.0 - p))


def top(expl: Explanation, row: np.ndarray, k: int) -> list[dict]:
    """The k largest |contribution|s of one row, largest first (ties: column order)."""
    if k <= 0:
        return []
    values = row.astype(np.float64)
    order = np.argsort(-np.abs(values), kind="stable")[:k]
    out = []
    for i in order.tolist():
        name = expl.names[i]
        reason = {"feature": name, "contribution": round(float(values[i]), CONTRIBUTION_DIGITS)}
        if name in expl.inputs:
            reason["inputs"] = expl.inputs[name]
        out.append(reason)
    return out


def score(model, columns: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(probability, label, contributions) in one run; ExplainError for an unexplained model."""
    if explanation(model) is None:
        raise ExplainError(unavailable(model))
    flags = {EXPLAIN_INPUT: np.array(True)}
    return model.predict(columns, ("probability", "label", CONTRIBUTIONS), flags)


def attach(model, predictions: list[dict], probability, contributions, k: int) -> dict:
    """Adds "reasons" (and, for an ensemble, "explanation_residual") to each
    prediction; returns the fields the response adds."""
    expl = explanation(model)
    for pred, p, row in zip(predictions, probability.tolist(), contributions, strict=True):
        pred["reasons"] = top(expl, row, k)
        if not expl.additive:
            residual = logit(p) - expl.base - float(row.astype(np.float64).sum())
            pred["explanation_residual"] = round(residual, CONTRIBUTION_DIGITS)
    return {"explanation_base": round(expl.base, CONTRIBUTION_DIGITS)}


def requested(model, payload: dict) -> int:
    """K from a /predict body's optional "explain"; ExplainError when it is bad
    or the model has no contributions to give."""
    if "explain" not in payload:
        return 0
    k = parse_top_k(payload["explain"])
    if k and explanation(model) is None:
        raise ExplainError(unavailable(model))
    return k


def check_batch_setting(model, k: int) -> None:
    """At start: EXPLAIN_TOP_K above 0 needs a model with contributions."""
    if k and explanation(model) is None:
        from lambda_fn.config import ConfigError

        raise ConfigError(f"EXPLAIN_TOP_K={k} but {why_not(model)}; set it to 0")


def header(k: int) -> str:
    """The scored/ file's reason columns: ,reason_1,reason_1_contribution,..."""
    return "".join(f",reason_{i},reason_{i}_contribution" for i in range(1, k + 1))


def cells(model, contributions: np.ndarray, k: int, quote) -> list[str]:
    """Per row, the reason columns' text (then the line end): the k largest
    |contribution|s, feature name and value; empty past the model's columns."""
    expl = explanation(model)
    names = [quote(n) for n in expl.names]
    width = min(k, len(names))
    order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :width]
    values = np.take_along_axis(contributions, order, axis=1).tolist()
    pad = ",," * (k - width) + "\n"
    return [
        "".join(f",{names[i]},{v:.6g}" for i, v in zip(row, vals, strict=True)) + pad
        for row, vals in zip(order.tolist(), values, strict=True)
    ]
