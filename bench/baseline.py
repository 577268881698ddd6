"""The stack a team would otherwise deploy: pandas and the trained pipeline
(`model.joblib`). One definition of how that stack types a table, read by the
single-record, Keras and batch comparisons alike."""

from __future__ import annotations

import json
import time
from pathlib import Path

from contract.schema import NUMERIC


def load(run: Path, threads: int | None = None):
    """The run's trained model; with `threads`, every step that has n_jobs uses that many."""
    import joblib

    model = joblib.load(Path(run) / "model.joblib")
    if threads is not None:
        members = model.members or []  # an ensemble: each member's pipeline
        for pipeline in [m.pipeline for m in members] or [model.pipeline]:
            for _, step in pipeline.steps:
                if hasattr(step, "n_jobs"):
                    step.set_params(n_jobs=threads)
    return model


def dtypes(schema) -> dict[str, str]:
    """read_csv's dtype for each feature: float32 numbers, text categories."""
    return {f.name: ("float32" if f.kind == NUMERIC else str) for f in schema.features}


def typed(frame, schema):
    """The frame as the pipeline was trained on it: float32 numbers, dates,
    booleans and numbers written as text parsed as training parsed them, and
    categories as text with missing as the empty string."""
    import numpy as np
    import pandas as pd

    from contract.feeds import typed_column
    from contract.kinds import PARSED_KINDS

    for f in schema.features:
        column = frame[f.name]
        if f.kind in PARSED_KINDS:
            # Column-wise, as a pandas user would: each distinct value parsed
            # once by the contract's parser, then mapped (missing stays NaN).
            codes, uniques = pd.factorize(column)
            parsed = np.append(typed_column(f, uniques.to_numpy()), np.float32("nan"))
            frame[f.name] = parsed[codes]
        elif f.kind == NUMERIC:
            frame[f.name] = column.astype("float32", copy=False)
        else:
            frame[f.name] = column.fillna("").astype(object)
    return frame


def labels(model, probabilities) -> list:
    """The original label values at the model's threshold."""
    schema = model.schema
    return [
        schema.positive_label if v >= model.threshold else schema.negative_label
        for v in probabilities
    ]


def answer(model, body: str) -> str:
    """A /predict body answered the usual way: DataFrame, predict_proba, json.dumps."""
    import pandas as pd

    frame = typed(pd.DataFrame.from_records(json.loads(body)["records"]), model.schema)
    p = model.predict_proba(frame)
    return json.dumps(
        {
            "predictions": [
                {"probability": float(a), "label": b}
                for a, b in zip(p, labels(model, p), strict=True)
            ]
        }
    )


def score_csv(model, csv_path: Path, out_csv: Path) -> dict:
    """read_csv + predict_proba + to_csv, with the time of each phase."""
    import pandas as pd

    t = start = time.perf_counter()
    frame = typed(pd.read_csv(csv_path, dtype=dtypes(model.schema)), model.schema)
    timings = {"parse_seconds": time.perf_counter() - t}
    t = time.perf_counter()
    p = model.predict_proba(frame)
    timings["score_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    frame["probability"] = p
    frame["label"] = labels(model, p)
    frame.to_csv(out_csv, index=False)
    timings["write_seconds"] = time.perf_counter() - t
    seconds = time.perf_counter() - start
    timings = {k: round(v, 4) for k, v in timings.items()} | {"total_seconds": round(seconds, 4)}
    return {"rows": len(frame), "seconds": seconds, "timings": timings}
