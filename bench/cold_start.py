"""Section 3: cold start, each stack imported and its model loaded in fresh
processes, and the INIT duration under the real Lambda runtime (RIE)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.machine import QUIET, ROOT
from bench.timing import spread_ms

COLD = {
    "handler": "import lambda_fn.app",
    "pandas_sklearn_xgboost": (
        "import pandas, sklearn, xgboost, joblib\n"
        "joblib.load(os.environ['RUN_DIR'] + '/model.joblib')"
    ),
    "tensorflow_keras": (
        "import tensorflow as tf, keras\nkeras.saving.load_model(os.environ['KERAS_FILE'])"
    ),
}
LABELS = {
    "handler": "import `lambda_fn.app` and load the ONNX model",
    "pandas_sklearn_xgboost": "import pandas + scikit-learn + xgboost, load the pipeline",
    "tensorflow_keras": "import TensorFlow, load the Keras model",
}


def _seconds(code: str, env: dict) -> float:
    """One fresh interpreter's time for `code`, as it measures itself."""
    timed = f"import os, time\nt = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)"
    proc = subprocess.run(
        [sys.executable, "-c", timed],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    return float(proc.stdout.strip().splitlines()[-1])


def cold_start(run: Path, keras_file: Path | None, runs: int) -> dict:
    from scripts import invoke_rie

    env = {
        **os.environ,
        **invoke_rie.image_environment(),  # the image's ENV lines, for every path alike
        **QUIET,
        "MODEL_PATH": str(run / "model.onnx"),
        "PYTHONPATH": str(ROOT),
        "RUN_DIR": str(run),
        "KERAS_FILE": str(keras_file or ""),
    }
    env.pop("AWS_XRAY_DAEMON_ADDRESS", None)
    out = {}
    for name, code in COLD.items():
        if name == "tensorflow_keras" and keras_file is None:
            continue
        samples = [_seconds(code, env) * 1000 for _ in range(runs)]
        out[name] = {"runs": runs, **spread_ms(samples)}
    return out


def rie_cold_start(run: Path, runs: int) -> dict:
    """INIT under the real runtime (RIE + awslambdaric, as Lambda's user), tracing on and
    off; {"skipped": why} when the emulator is not installed."""
    from scripts import invoke_rie

    try:
        invoke_rie.rie_binary()
    except invoke_rie.RieError as exc:
        return {"skipped": str(exc)}
    out = {"runs": runs}
    for name, tracing in (("tracing_on", True), ("tracing_off", False)):
        out[name] = spread_ms(invoke_rie.cold_starts(run / "model.onnx", runs, tracing))
    return out


def rie_markdown(r: dict | None) -> list[str]:
    if not r:
        return []
    if "skipped" in r:
        return [f"Under the real runtime: not measured ({r['skipped']}).", ""]
    lines = [
        "Under the real runtime: the `INIT REPORT` duration of the Runtime Interface",
        "Emulator running `python -m awslambdaric lambda_fn.app.handler` as a non-root",
        f"user (`scripts/invoke_rie.py`, as `make invoke-rie`), median of {r['runs']} fresh",
        "starts. It includes the runtime client's start, the handler's imports and the",
        "model load; tracing on means X-Ray active, as Lambda sets it for `Tracing: Active`.",
        "",
        "| tracing | median ms | min | max |",
        "|---|---|---|---|",
    ]
    for key, label in (("tracing_on", "on"), ("tracing_off", "off")):
        t = r[key]
        lines.append(f"| {label} | {t['median_ms']:.0f} | {t['min_ms']:.0f} | {t['max_ms']:.0f} |")
    return [*lines, ""]


def markdown(figures: dict) -> list[str]:
    c = figures["cold_start"]
    lines = [
        "## 3. Cold start",
        "",
        f"Fresh process, median of {c['handler']['runs']} runs.",
        "",
        "| what | median ms | min | max |",
        "|---|---|---|---|",
    ]
    for key, label in LABELS.items():
        if key in c:
            lines.append(
                f"| {label} | {c[key]['median_ms']:.0f} | {c[key]['min_ms']:.0f} "
                f"| {c[key]['max_ms']:.0f} |"
            )
    return [
        *lines,
        "",
        "X-Ray is off here. With tracing active the API path still imports no",
        "aws_xray_sdk: the S3 path creates the tracer on its first event.",
        "",
        *rie_markdown(figures.get("cold_start_rie")),
    ]
