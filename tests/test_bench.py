"""The benchmark keeps working (tiny sizes; its timings are printed, never asserted)."""

import json
import os
import subprocess
import sys

from tests.conftest import ROOT, make_frame, train_and_export


def test_bench_runs_and_reports_every_section(model_path, tmp_path):
    data = tmp_path / "data.csv"
    make_frame(n=300, seed=4).to_csv(data, index=False)
    keras_run = train_and_export(
        data, tmp_path / "keras", "--models", "keras", "--samplers", "none", "--folds", "2"
    )
    out, report = tmp_path / "bench.json", tmp_path / "bench.md"
    proc = subprocess.run(
        [
            sys.executable,
            "scripts/bench.py",
            "--run",
            str(model_path.parent),
            "--keras-run",
            str(keras_run),
            "--data",
            str(data),
            "--rows",
            "2000",
            "--memory-mb",
            "2",
            "--wide-rows",
            "20",
            "--requests",
            "30",
            "--cold-runs",
            "1",
            "--rie-runs",
            "1",
            "--runs",
            str(tmp_path),
            "--json",
            str(out),
            "--markdown",
            str(report),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert set(figures["single_record"]) == {"winner", "keras"}
    assert "keras_direct" in figures["single_record"]["keras"]
    assert figures["batch"]["full"]["handler"]["rows"] == figures["batch"]["full"]["pandas"]["rows"]
    assert figures["batch"]["full"]["rows"] == 2000 and figures["batch"]["half"]["rows"] == 1000
    for entry in figures["batch"].values():
        agreement = entry["agreement"]
        assert agreement["labels_equal"] == 1.0
        assert agreement["max_abs_probability_difference"] < 1e-5
    if len(os.sched_getaffinity(0)) > 1:
        assert figures["batch"]["full_all_vcpus"]["threads"] == len(os.sched_getaffinity(0))
    assert list(figures["memory"]) == ["1 MB", "2 MB", "5,000 columns"]
    assert all(m["rows_scored"] == m["rows"] for m in figures["memory"].values())
    assert set(figures["cold_start"]) == {"handler", "pandas_sklearn_xgboost", "tensorflow_keras"}
    rie = figures["cold_start_rie"]
    assert "skipped" in rie or rie["tracing_on"]["median_ms"] > 0 < rie["tracing_off"]["median_ms"]
    assert 0 < figures["size"]["serving_mb"] < figures["size"]["pipeline_keras_stack_mb"]
    text = report.read_text()
    for heading in (
        "## Targets",
        "## 1. Single-record",
        "## 2. Batch",
        "### Memory does not follow",
        "## 3. Cold start",
        "## 4. Deployment size",
        "## 5. Training time",
    ):
        assert heading in text
