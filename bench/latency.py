"""Section 1: one record through POST /predict, the handler against the
usual pandas + pipeline stack, the Keras network called directly and the bare
onnxruntime run."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from bench import baseline
from bench.inputs import api_event, first_record
from bench.machine import ROOT
from bench.timing import ROUNDS, timed

PATHS = {
    "handler": "`lambda_fn.app.handler`: event JSON in, response JSON out",
    "handler_explain3": 'the same, with `"explain": 3` (top 3 reasons)',
    "pandas_pipeline": "pandas DataFrame from the JSON + pipeline `predict_proba` + `json.dumps`",
    "keras_direct": "the Keras network called directly, `model(x)`, on the encoded row",
    "onnxruntime_run": "bare onnxruntime `run` of the prebuilt row, one thread",
    "onnxruntime_run_all_vcpus": "bare onnxruntime `run`, all vCPUs",
}


def _serving(run: Path):
    """The exported model loaded into the handler, its metric lines sent nowhere."""
    from lambda_fn import app
    from lambda_fn.model import Model

    model = Model.load(str(run / "model.onnx"))
    app.use_model(model)
    app.metrics.out = open(os.devnull, "w")  # noqa: SIM115 - metric lines are not measured output
    return app, model


def _network_input(trained, record: dict):
    """The Keras network and the record as its encoded input row, or None for
    a run whose model is not a single network (an ensemble has none)."""
    import pandas as pd

    if getattr(trained, "members", None) is not None:
        return None
    steps = dict(trained.inference_steps())
    if not hasattr(steps.get("model"), "model_"):
        return None
    frame = baseline.typed(pd.DataFrame.from_records([record]), trained.schema)
    if "derive" in steps:  # derived features (sums, indicators) come before the encoding
        frame = steps["derive"].transform(frame)
    return steps["model"].model_, steps["prep"].transform(frame).astype("float32")


def single_record(run: Path, data: Path, n: int) -> dict:
    """One model: handler vs pandas+pipeline vs (Keras direct) vs bare onnxruntime."""
    from contract.machine import vcpus as _vcpus
    from lambda_fn.model import _session
    from lambda_fn.validation import records_to_columns

    app, model = _serving(run)
    record = first_record(data, model.schema)
    event = api_event(record)
    result = {"handler": timed(lambda: app.handler(event, None), n)}
    if "explanation" in model.metadata:  # the same record with its top 3 reasons
        explained = {**event, "body": json.dumps({"records": [record], "explain": 3})}
        result["handler_explain3"] = timed(lambda: app.handler(explained, None), n)
        result["explain_cost_ratio"] = (
            result["handler_explain3"]["p50_us"] / result["handler"]["p50_us"]
        )
    trained = baseline.load(run)
    result["pandas_pipeline"] = timed(
        lambda: baseline.answer(trained, event["body"]), max(100, n // 10), warmup=10
    )
    network = _network_input(trained, record)
    if network is not None:
        net, x = network
        result["keras_direct"] = timed(lambda: net(x, training=False), max(200, n // 5))
    columns, _ = records_to_columns([record], model.schema)
    result["onnxruntime_run"] = timed(lambda: model.session.run(None, columns), n)
    wide = _session(model.data, max(2, _vcpus()))
    result["onnxruntime_run_all_vcpus"] = timed(lambda: wide.run(None, columns), n)
    result["speedup_vs_pandas"] = result["pandas_pipeline"]["p50_us"] / result["handler"]["p50_us"]
    result["learner"] = model.metadata.get("learner")
    result["strategy"] = model.metadata.get("strategy")
    return result


def handler_profile(run: Path, data: Path, n: int = 3000) -> list[str]:
    """cProfile of the single-record handler: the top functions by own time."""
    import cProfile
    import io
    import pstats

    app, model = _serving(run)
    event = api_event(first_record(data, model.schema))
    for _ in range(200):
        app.handler(event, None)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(n):
        app.handler(event, None)
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(12)
    lines = [line.rstrip() for line in out.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    return [
        re.sub(r"/\S*/site-packages/", "", line).replace(str(ROOT) + "/", "")
        for line in lines[start:]
    ]


def markdown(figures: dict) -> list[str]:
    lines = [
        "## 1. Single-record `POST /predict`",
        "",
        "In process; p50 and p99 in µs. The calls of each path also split into",
        f"{ROUNDS} consecutive fifths: the spread of their p50s shows how far the",
        "machine's speed moved during the measurement, one path at a time.",
        "",
    ]
    for name, r in figures["single_record"].items():
        lines += [
            f"**{name}** ({r['learner']} + {r['strategy']})",
            "",
            "| path | p50 | p99 | p50 of each fifth, lowest–highest |",
            "|---|---|---|---|",
        ]
        for key, label in PATHS.items():
            if key in r:
                rounds = r[key].get("round_p50_us")
                spread = f"{min(rounds):.0f}–{max(rounds):.0f}" if rounds else ""
                lines.append(
                    f"| {label} | {r[key]['p50_us']:.0f} | {r[key]['p99_us']:.0f} | {spread} |"
                )
        lines += ["", f"Handler vs pandas path: {r['speedup_vs_pandas']:.0f}× faster at p50.", ""]
        if "explain_cost_ratio" in r:
            lines += [
                f'`"explain": 3` costs {r["explain_cost_ratio"]:.2f}× a plain call (p50).',
                "",
            ]
    return [
        *lines,
        "Where the handler's time goes (cProfile, quick-preset winner, own time):",
        "",
        "```",
        *figures["handler_profile"],
        "```",
        "",
    ]
