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
    assert '`"explain": 3` costs' in text


def test_the_pandas_path_it_compares_against_scores_an_ensemble(tmp_path):
    """The demo's winner may be an ensemble: the baseline sets threads on each member."""
    import importlib.util

    import joblib

    from train.data import load_dataset
    from train.search import Member, TrainedModel, WeightedAverage, build_pipeline, train_schema

    data = tmp_path / "data.csv"
    make_frame(n=300, seed=5).to_csv(data, index=False)
    dataset = load_dataset(str(data), "y")
    schema = train_schema(dataset.schema, dataset.X)
    members = [
        Member(name, learner, "none", 0.5, build_pipeline(schema, learner, "none", 0, 7.0))
        for name, learner in [("a", "logreg"), ("b", "rf")]
    ]
    for m in members:
        m.pipeline.fit(dataset.X, dataset.y)
    model = TrainedModel(WeightedAverage(members), "ensemble", "none", 0.3, None, schema, members)
    run = tmp_path / "run"
    run.mkdir()
    joblib.dump(model, run / "model.joblib")
    spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.batch_pandas_worker(str(run), str(data), str(tmp_path), "2")
    assert result["rows"] == 300
    scored = (tmp_path / "scored.csv").read_text().splitlines()
    assert len(scored) == 301 and scored[0].endswith("probability,label")


def test_latency_is_reported_per_fifth_of_the_calls_so_drift_shows(monkeypatch):
    from scripts import bench

    clock = [0.0]
    monkeypatch.setattr(bench.time, "perf_counter", lambda: clock[0])
    # 50 warm-up calls, then 120 at 100 µs, then the machine slows to 300 µs.
    calls = iter([1e-4] * (50 + 120) + [3e-4] * (80 + 30))

    def call():
        clock[0] += next(calls)

    figures = bench.timed(call, 200, warmup=50)
    assert [round(us) for us in figures["round_p50_us"]] == [100, 100, 100, 300, 300]
    assert round(figures["p50_us"]) == 100 and figures["n"] == 200
    assert "round_p50_us" not in bench.timed(call, 30, warmup=0)  # too few to split
