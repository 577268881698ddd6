"""`make bench`'s entry point end to end at tiny sizes: every section runs and
is reported (timings are printed, never asserted; what is compared must agree)."""

import json
import os
import subprocess
import sys

import pytest

from bench.targets import TARGETS
from scripts import invoke_rie
from tests.conftest import ROOT, make_frame, train_and_export

TINY = ["--rows", "2000", "--memory-mb", "2", "--wide-rows", "20", "--requests", "30"]
TINY += ["--cold-runs", "1", "--rie-runs", "1"]


def rie_missing() -> str | None:
    """Why the Lambda emulator cannot run here, or None when it can."""
    try:
        invoke_rie.rie_binary()
    except invoke_rie.RieError as exc:
        return str(exc)
    return None


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "scripts/bench.py", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
    )


@pytest.fixture(scope="module")
def bench_run(model_path, tmp_path_factory):
    """One run of scripts/bench.py on a small dataset: (figures, report text)."""
    folder = tmp_path_factory.mktemp("bench")
    data = folder / "data.csv"
    make_frame(n=300, seed=4).to_csv(data, index=False)
    keras_run = train_and_export(
        data, folder / "keras", "--models", "keras", "--samplers", "none", "--folds", "2"
    )
    out, report = folder / "bench.json", folder / "bench.md"
    proc = bench(
        *["--run", str(model_path.parent), "--keras-run", str(keras_run), "--data", str(data)],
        *TINY,
        *["--runs", str(folder), "--json", str(out), "--markdown", str(report)],
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text()), report.read_text()


def test_every_section_is_measured_and_the_compared_paths_agree(bench_run):
    figures, _ = bench_run
    assert set(figures["single_record"]) == {"winner", "keras"}
    assert "keras_direct" in figures["single_record"]["keras"]
    # Reasons cost is measured where the model has them (a Keras network has none).
    assert figures["single_record"]["winner"]["explain_cost_ratio"] > 0
    assert "handler_explain3" not in figures["single_record"]["keras"]
    assert figures["batch"]["full"]["handler"]["rows"] == figures["batch"]["full"]["pandas"]["rows"]
    assert figures["batch"]["full"]["rows"] == 2000 and figures["batch"]["half"]["rows"] == 1000
    for entry in figures["batch"].values():
        agreement = entry["agreement"]
        assert agreement["labels_equal"] == 1.0
        assert agreement["max_abs_probability_difference"] < 1e-5
    if len(os.sched_getaffinity(0)) > 1:
        assert figures["batch"]["full_all_vcpus"]["threads"] == len(os.sched_getaffinity(0))
    assert figures["chunked"]["rows"] == 2000 and figures["chunked"]["identical_scored_csv"]
    assert list(figures["memory"]) == ["1 MB", "2 MB", "5,000 columns"]
    assert all(m["rows_scored"] == m["rows"] for m in figures["memory"].values())
    assert 0.9 < sum(figures["onnxruntime_operator_share"].values()) <= 1.001
    assert set(figures["cold_start"]) == {"handler", "pandas_sklearn_xgboost", "tensorflow_keras"}
    assert 0 < figures["size"]["serving_mb"] < figures["size"]["pipeline_keras_stack_mb"]
    assert figures["machine"]["vcpus"] == len(os.sched_getaffinity(0))


def test_the_cold_start_under_the_real_runtime_is_measured(bench_run):
    missing = rie_missing()
    if missing is not None:
        pytest.skip(f"the Lambda emulator is not installed: {missing}")
    figures, text = bench_run
    rie = figures["cold_start_rie"]
    assert rie["runs"] == 1
    assert rie["tracing_on"]["median_ms"] > 0 < rie["tracing_off"]["median_ms"]
    assert [c["name"] for c in figures["targets"]] == [t.name for t in TARGETS]
    assert "| tracing | median ms | min | max |" in text


def test_the_report_names_the_machine_and_has_every_section(bench_run):
    figures, text = bench_run
    assert f"on a machine with {figures['machine']['vcpus']} vCPUs" in text
    missing = rie_missing()
    if missing is not None:
        assert f"Under the real runtime: not measured ({missing})." in text
    for heading in (
        "## Targets",
        "## 1. Single-record",
        "## 2. Batch",
        "### Memory does not follow",
        "## 3. Cold start",
        "## 4. Deployment size",
        "## 5. Training time",
        "## Large files: plan + ranges + merge",
    ):
        assert heading in text
    for check in figures["targets"]:
        assert f"| {check['target']} |" in text


def test_a_wrong_target_column_is_one_line_and_exit_2(model_path, tmp_path):
    data = tmp_path / "data.csv"
    make_frame(n=20, seed=1).to_csv(data, index=False)
    proc = bench("--run", str(model_path.parent), "--data", str(data), "--target", "label")
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"--target: no column 'label' in {data}"
