"""The quality benchmark's bookkeeping: same test rows as the project, the F1
threshold from the train part only, and the results.md section it maintains.
Its figures are printed, never asserted."""

import json
import subprocess
import sys

import numpy as np
import pytest

from scripts import bench_quality
from tests.conftest import ROOT, SHARED_DATA, make_frame
from train.artifacts import write_run
from train.data import load_dataset
from train.search import SearchConfig, run_search

FLAML_PYTHON = ROOT / ".venv-flaml" / "bin" / "python"


def _doc(project_roc=0.93, flaml_roc=0.91):
    row = {
        "others_cpu_share": 0.12,
        "load_average": (1.0, 1.2),
        "threshold": 0.4,
        "cpu_seconds": 230.2,
    }
    return {
        "date": "2026-12-01 12:00 UTC",
        "command": "python scripts/bench_quality.py --budget 120",
        "budget_seconds": 120.0,
        "project_budget_flag": True,
        "seed": 42,
        "test_size": 0.2,
        "notes": ["Project: a note.", "FLAML: another."],
        "rows": [
            {**row, "dataset": "telecom", "tool": "project", "roc_auc": project_roc}
            | {"pr_auc": 0.871, "f1": 0.85, "wall_seconds": 118.4},
            {**row, "dataset": "telecom", "tool": "flaml", "roc_auc": flaml_roc}
            | {"pr_auc": 0.88, "f1": 0.83, "wall_seconds": 131.0, "others_cpu_share": None},
        ],
    }


def test_the_section_tabulates_each_tool_and_compares_them():
    text = bench_quality.markdown_section(_doc())
    assert text.startswith(bench_quality.BEGIN) and text.rstrip().endswith(bench_quality.END)
    assert "| telecom | project | 0.930 | 0.871 | 0.850 | 118 | 230 | 12% |" in text
    assert "| telecom | flaml | 0.910 | 0.880 | 0.830 | 131 | 230 | n/a |" in text
    assert "python scripts/bench_quality.py --budget 120" in text and "seed 42" in text
    assert (
        "ROC AUC 0.930 vs 0.910 (at least FLAML's); PR AUC 0.871 vs 0.880 (below FLAML's)" in text
    )
    assert "- Project: a note." in text


def test_the_section_replaces_its_previous_version_and_nothing_else():
    before = "# Results\n\nKept above.\n"
    first = bench_quality.replace_section(before, bench_quality.markdown_section(_doc()))
    assert first.startswith(before) and bench_quality.read_section(first) is not None
    newer = bench_quality.markdown_section(_doc(project_roc=0.95))
    second = bench_quality.replace_section(first + "\n## Kept below\n", newer)
    assert second.count(bench_quality.BEGIN) == 1 and "0.950" in second and "0.930" not in second
    assert second.startswith(before) and second.endswith("\n## Kept below\n")
    assert bench_quality.read_section(second) == newer
    assert bench_quality.replace_section(second, newer) == second


def test_a_saved_result_is_rendered_again_without_rerunning(tmp_path):
    saved, md = tmp_path / "bench.json", tmp_path / "results.md"
    saved.write_text(json.dumps(_doc() | {"project_budget_flag": False}))
    md.write_text("# Results\n")
    proc = subprocess.run(
        [sys.executable, "scripts/bench_quality.py", "--render", str(saved), "--markdown", str(md)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    text = md.read_text()
    assert text.startswith("# Results\n") and "| telecom | flaml | 0.910 |" in text
    assert "FLAML gets a 120 s budget and the project its CLI's defaults" in text
    assert "Both tools get the same" not in text


def test_f1_is_taken_at_the_threshold_tuned_on_the_train_part():
    # out-of-fold: the F1-best cut is at 0.8; on the test part a cut at 0.5 would score higher
    got = bench_quality.score(
        y_train=[0, 0, 1, 1],
        oof=[0.1, 0.2, 0.8, 0.9],
        y_test=[0, 1, 1],
        p_test=[0.85, 0.5, 0.9],
    )
    assert got["threshold"] == 0.8
    assert got["f1"] == pytest.approx(0.5)  # predicted [1, 0, 1]: one hit, one miss, one false
    assert got["roc_auc"] == pytest.approx(0.5)


def test_the_split_is_the_one_the_project_scores_on(tmp_path):
    data = tmp_path / "customers.csv"
    make_frame(n=300, seed=8).to_csv(data, index=False)
    dataset = load_dataset(str(data), "y")
    config = SearchConfig(learners=["logreg"], strategies=["none"], folds=2)
    run = tmp_path / "run"
    write_run(run, run_search(dataset, config), dataset, config, ["python", "-m", "train"])

    X_train, X_test, y_train, y_test = bench_quality.split(dataset, seed=42, test_size=0.2)
    bench_quality.same_test_rows(run, X_test, y_test)
    assert len(X_train) + len(X_test) == len(dataset.y)
    folds = bench_quality.threshold_folds(y_train, seed=42)
    assert sorted(set(folds)) == list(range(bench_quality.THRESHOLD_FOLDS))

    _, other_test, _, other_y = bench_quality.split(dataset, seed=7, test_size=0.2)
    with pytest.raises(bench_quality.BenchError, match="test split differs"):
        bench_quality.same_test_rows(run, other_test, other_y)


def test_a_missing_data_file_is_one_error_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "scripts/bench_quality.py", "--telecom", str(tmp_path / "no.csv")]
        + ["--datasets", "telecom", "--tools", "project"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: --telecom {tmp_path / 'no.csv'}: no such file (make data "
        "DATA_MIRROR=../shared/data copies the marketing data into data/)"
    ]


@pytest.mark.skipif(not FLAML_PYTHON.exists(), reason=".venv-flaml not built (make bench-quality)")
def test_flaml_runs_on_the_telecom_split_for_a_few_seconds(tmp_path):
    telecom = SHARED_DATA / "telecom_churn.csv"
    if not telecom.exists():
        pytest.skip(f"{telecom} not present")
    out, md = tmp_path / "bench.json", tmp_path / "results.md"
    md.write_text("# Results\n")
    proc = subprocess.run(
        [sys.executable, "scripts/bench_quality.py", "--budget", "3", "--telecom", str(telecom)]
        + ["--datasets", "telecom", "--tools", "flaml", "--flaml-python", str(FLAML_PYTHON)]
        + ["--runs", str(tmp_path / "runs"), "--json", str(out), "--markdown", str(md)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(out.read_text())["rows"]
    assert row["dataset"] == "telecom" and row["tool"] == "flaml"
    assert 0.5 < row["roc_auc"] <= 1 and 0 < row["pr_auc"] <= 1 and 0 <= row["f1"] <= 1
    oof = json.loads((tmp_path / "runs/telecom/flaml/flaml_predictions.json").read_text())["oof"]
    assert len(oof) == 2666 and np.all((np.array(oof) >= 0) & (np.array(oof) <= 1))
    text = md.read_text()
    assert text.startswith("# Results\n") and "| telecom | flaml |" in text


def test_notes_say_what_ran_and_how_shared_the_machine_was():
    args = type(
        "Args", (), {"budget": 120.0, "flaml_metric": "ap", "seed": 42, "jobs": 1, "workers": 2}
    )
    detail = {"flaml_version": "2.7.0", "best_estimator": "lgbm", "fit_seconds": 121.0}
    rows = [
        {"dataset": "telecom", "tool": "project", "others_cpu_share": 0.4}
        | {"detail": {"model": "xgboost", "sampler": "none"}},
        {"dataset": "telecom", "tool": "flaml", "others_cpu_share": 0.7}
        | {"detail": detail | {"oof_seconds": 9.0}},
    ]
    project, flaml, machine = bench_quality.build_notes(args, False, rows)
    assert "has no `--budget` option yet" in project and "telecom xgboost + none" in project
    assert "time_budget=120" in flaml and "n_jobs=2" in flaml  # the project's two fold threads
    assert "telecom lgbm (fit 121 s, threshold refits 9 s)" in flaml
    assert "took 40%–70% of the CPU" in machine and "tilts this comparison" in machine
    quiet = [r | {"others_cpu_share": 0.01} for r in rows]
    assert bench_quality.build_notes(args, True, quiet)[-1].endswith("otherwise quiet.")
