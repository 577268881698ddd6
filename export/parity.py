"""Prove the ONNX graph gives the Python pipeline's answers.

Every held-out test row, plus edge rows built from them: a missing value in
each column in turn, categories never seen in training, empty strings, very
large and very small numbers, and integer-valued floats.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pandas as pd

from contract.cells import MISSING_CATEGORY
from contract.feeds import from_frame
from contract.schema import NUMERIC
from export import contributions, dates

MAX_ABS_DIFF = 1e-5
UNSEEN = "__never_seen_in_training__"
EXTREMES = (1e12, -1e12, 1e-12, -1e-12, 0.0)


def edge_rows(X: pd.DataFrame, schema) -> pd.DataFrame:
    base = X.head(3).reset_index(drop=True)
    variants = []
    for f in schema.features:
        missing = base.copy()
        missing[f.name] = np.nan if f.input_kind == NUMERIC else MISSING_CATEGORY
        variants.append(missing)
        if f.input_kind == NUMERIC:
            for value in EXTREMES:
                extreme = base.copy()
                extreme[f.name] = value
                variants.append(extreme)
            rounded = base.copy()
            rounded[f.name] = np.round(rounded[f.name])
            variants.append(rounded)
        else:
            unseen = base.copy()
            unseen[f.name] = UNSEEN
            variants.append(unseen)
    variants += dates.edge_rows(base, schema)  # a leap day in each date column
    everything = base.copy()
    for f in schema.features:
        everything[f.name] = np.nan if f.input_kind == NUMERIC else MISSING_CATEGORY
    variants.append(everything)
    out = pd.concat(variants, ignore_index=True)
    for f in schema.features:
        if f.input_kind == NUMERIC:
            out[f.name] = out[f.name].astype(np.float32)
        else:
            out[f.name] = out[f.name].astype(object)
    return out


def check(model_bytes: bytes, model, X_test: pd.DataFrame) -> dict:
    """Compare onnxruntime and the Python pipeline; returns the parity report."""
    schema = model.schema
    options = ort.SessionOptions()
    options.log_severity_level = 3  # not the warning that __explain__ has a default
    session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    report = {"bar": {"max_abs_diff": MAX_ABS_DIFF, "label_agreement": 1.0}, "sets": {}}
    worst = {"abs_diff": -1.0}
    explained = contributions.CONTRIBUTIONS in {o.name for o in session.get_outputs()}
    for name, X in (("test_split", X_test), ("edge_rows", edge_rows(X_test, schema))):
        X = X.reset_index(drop=True)
        p_python = model.predict_proba(X)
        label_python = (p_python >= model.threshold).astype(np.int64)
        feeds = from_frame(X, schema)
        p_onnx, label_onnx = session.run(["probability", "label"], feeds)
        if explained:
            report["sets"].setdefault("contributions", {})[name] = contributions.parity(
                session, model, X, feeds
            )["max_scaled_diff"]
        diff = np.abs(p_onnx.astype(np.float64) - p_python)
        agree = float(np.mean(label_onnx == label_python))
        report["sets"][name] = {
            "rows": int(len(X)),
            "max_abs_diff": float(diff.max()),
            "label_agreement": agree,
        }
        i = int(np.argmax(diff))
        if diff[i] > worst["abs_diff"]:
            worst = {
                "set": name,
                "row": i,
                "abs_diff": float(diff[i]),
                "p_python": float(p_python[i]),
                "p_onnx": float(p_onnx[i]),
                "record": {
                    k: (None if isinstance(v, float) and np.isnan(v) else v)
                    for k, v in X.iloc[i].to_dict().items()
                },
            }
    explained_diff = report["sets"].pop("contributions", None)
    sets = report["sets"].values()
    report["rows_checked"] = sum(s["rows"] for s in sets)
    report["max_abs_diff"] = max(s["max_abs_diff"] for s in sets)
    report["label_agreement"] = min(s["label_agreement"] for s in sets)
    report["worst_row"] = worst
    report["malformed_rejected"] = dates.malformed_rejected(schema)  # 4xx / errors/ rows
    report["passed"] = bool(
        report["max_abs_diff"] <= MAX_ABS_DIFF
        and report["label_agreement"] == 1.0
        and all(report["malformed_rejected"].values())
    )
    if explained_diff is not None:
        # The contributions output against the Python explanation (export/contributions.py).
        report["contributions"] = {"bar": MAX_ABS_DIFF, "max_scaled_diff": explained_diff}
        report["passed"] &= max(explained_diff.values()) <= MAX_ABS_DIFF
    return report
