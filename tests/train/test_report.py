"""Every run writes a self-contained report; sections fed by optional run-folder
files appear exactly when those files are there; every ranking follows the
metric's direction."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from tests.conftest import make_frame, run_train_cli
from train import leaderboard, metrics, report
from train.artifacts import leaderboard_rows
from train.data import load_dataset
from train.report import run_files, sections, stats
from train.search import CandidateResult, SearchConfig, run_search

SECTIONS = ["Data overview", "Leaderboard", "Curves", "Feature importance", "Model card"]
FIGURES = [
    "class_balance",
    "numeric_by_class",
    "categorical_rates",
    "correlation",
    "roc_pr",
    "confusion",
    "threshold",
    "reliability",
    "importance",
]
OPTIONAL_SECTIONS = ["Search trajectory", "Ensemble", "Serving cost against quality"]
OPTIONAL_FIGURES = ["search_trajectory", "cost_quality"]
INFO = {"created": "2026-12-01T00:00:00+00:00"}


def test_run_writes_a_self_contained_report(csv_path, tmp_path):
    out = tmp_path / "run"
    proc = run_train_cli(
        "--data",
        csv_path,
        "--target",
        "y",
        "--models",
        "logreg,xgboost",
        "--samplers",
        "none,undersample",
        "--folds",
        "3",
        "--out",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    page = (out / "report.html").read_text()
    for section in SECTIONS:
        assert f"<h2>{section}</h2>" in page
    # self-contained: every image inline, no external resources at all
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    # the search writes trials.csv and the cost columns: their figures come too
    assert page.count('src="data:image/png;base64,') == len(FIGURES) + len(OPTIONAL_FIGURES)
    assert 'class="winner"' in page and "bootstrap CI" in page
    markdown = (out / "report.md").read_text()
    for name in FIGURES + OPTIONAL_FIGURES:
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
        assert f"(figures/{name}.png)" in markdown
    for section in SECTIONS + ["Search trajectory", "Serving cost against quality"]:
        assert f"## {section}" in markdown
    run = json.loads((out / "run.json").read_text())
    # timed on its own, beside the training time (how they compare is not a rule)
    assert run["report_seconds"] > 0 and run["elapsed_seconds"] > 0


def test_no_report_flag_skips_it(csv_path, tmp_path):
    out = tmp_path / "run"
    proc = run_train_cli(
        "--data",
        csv_path,
        "--target",
        "y",
        "--models",
        "logreg",
        "--samplers",
        "none",
        "--folds",
        "2",
        "--out",
        out,
        "--no-report",
    )
    assert proc.returncode == 0, proc.stderr
    assert not (out / "report.html").exists()


# ---------------------------------------------------------------- optional sections


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """A real (small) search, for reports written straight into prepared folders."""
    data = tmp_path_factory.mktemp("data") / "customers.csv"
    make_frame(n=400, seed=5).to_csv(data, index=False)
    dataset = load_dataset(str(data), "y")
    config = SearchConfig(
        learners=["logreg"], strategies=["none", "undersample"], folds=2, trials=4
    )
    return dataset, config, run_search(dataset, config)


def _trials(n: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    state = ["complete"] * n
    state[3], state[7], state[9] = "pruned", "pruned", "fail"
    score = rng.uniform(0.3, 0.6, n)
    score[9] = np.nan
    done = pd.Series(np.where(np.array(state) == "complete", score, np.nan))
    return pd.DataFrame(
        {
            "trial": range(n),
            "elapsed_seconds": np.cumsum(rng.uniform(1, 4, n)).round(2),
            "learner": ["lightgbm", "xgboost", "logreg"] * (n // 3),
            "sampler": ["none", "class_weight"] * (n // 2),
            "score": score,
            "best_so_far": done.cummax().to_numpy(),
            "state": state,
            "params": [json.dumps({"max_depth": 3 + k % 4}) for k in range(n)],
        }
    )


def _ensemble(chosen=True) -> dict:
    return {
        "chosen": chosen,
        "cv_score": 0.612,
        "single_best_cv_score": 0.598,
        "metric": "pr_auc",
        "members": [
            {"name": "trial 4", "learner": "lightgbm", "sampler": "none", "weight": 0.25},
            {"name": "trial 2", "learner": "xgboost", "sampler": "class_weight", "weight": 0.75},
        ],
    }


def _leaderboard_with_costs(result, metric) -> pd.DataFrame:
    frame = pd.DataFrame(leaderboard_rows(result, metric))
    frame["onnx_bytes"] = [2048 * (k + 1) for k in range(len(frame))]
    frame["us_per_row"] = [0.5 * (k + 1) for k in range(len(frame))]
    return frame


def _write(folder, searched):
    dataset, config, result = searched
    report.write(folder, dataset, result, config, ["python", "-m", "train"], INFO)
    return (folder / "report.md").read_text(), (folder / "report.html").read_text()


def test_run_files_add_trajectory_ensemble_and_cost_sections(searched, tmp_path):
    _, config, result = searched
    _trials().to_csv(tmp_path / run_files.TRIALS_FILE, index=False)
    (tmp_path / run_files.ENSEMBLE_FILE).write_text(json.dumps(_ensemble()))
    board = _leaderboard_with_costs(result, config.metric)
    board.to_csv(tmp_path / run_files.LEADERBOARD_FILE, index=False)

    markdown, page = _write(tmp_path, searched)

    for section in SECTIONS + OPTIONAL_SECTIONS:
        assert f"<h2>{section}</h2>" in page and f"## {section}" in markdown
    assert page.count('src="data:image/png;base64,') == len(FIGURES) + len(OPTIONAL_FIGURES)
    for name in OPTIONAL_FIGURES:
        assert (tmp_path / "figures" / f"{name}.png").stat().st_size > 1000
        assert f"(figures/{name}.png)" in markdown
    # trajectory: counts and the best completed trial, read from trials.csv
    trials = _trials()
    best = trials[trials["state"] == "complete"]["score"].idxmax()
    assert "12 trials" in markdown and "(9 completed)" in markdown
    assert f"Best: trial {best}, " in markdown
    # ensemble: members heaviest first, and the verdict
    assert markdown.index("| trial 2 | xgboost | class_weight | 0.750 |") < markdown.index(
        "| trial 4 | lightgbm | none | 0.250 |"
    )
    assert "Chosen: the served model is this weighted average." in markdown
    assert "| Ensemble | weighted average of 2 models" in markdown
    # cost: leaderboard gains the cost columns; the picked model is named with its cost
    assert "| ONNX KiB | µs/row |" in markdown
    picked = board[board["selected"]].iloc[0]
    assert f"Picked: {picked['learner']} + {picked['strategy']}" in markdown
    assert f"{picked['us_per_row']:,.2f} µs/row" in markdown


def test_an_ensemble_not_chosen_is_shown_but_not_in_the_card(searched, tmp_path):
    flattered = {"nested_cv_score": 0.596, "gain_over_single": -0.002, "gain_se": 0.0017}
    doc = {**_ensemble(chosen=False), **flattered}
    (tmp_path / run_files.ENSEMBLE_FILE).write_text(json.dumps(doc))
    markdown, _ = _write(tmp_path, searched)
    assert "Not chosen: the single best model is served." in markdown
    assert "without each fold, 0.5960: -0.0020 on the same folds (SE 0.0017)" in markdown
    assert "| Ensemble |" not in markdown
    assert "Search trajectory" not in markdown  # no trials.csv in this folder


def test_no_ensemble_formed_means_no_ensemble_section(searched, tmp_path):
    # What the search writes when too few candidates completed to form one.
    none_formed = {**_ensemble(chosen=False), "cv_score": None, "members": []}
    (tmp_path / run_files.ENSEMBLE_FILE).write_text(json.dumps(none_formed))
    markdown, _ = _write(tmp_path, searched)
    assert "## Ensemble" not in markdown and "| Ensemble |" not in markdown


def test_cost_columns_without_values_draw_no_cost_plot(searched, tmp_path):
    _, config, result = searched
    board = _leaderboard_with_costs(result, config.metric)
    board["onnx_bytes"] = np.nan
    board.to_csv(tmp_path / run_files.LEADERBOARD_FILE, index=False)
    markdown, _ = _write(tmp_path, searched)
    assert "Serving cost against quality" not in markdown
    assert "cost_quality" not in markdown


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (run_files.TRIALS_FILE, "trial,learner,score\n0,xgboost,0.5\n", "missing column(s)"),
        (
            run_files.TRIALS_FILE,
            "trial,elapsed_seconds,learner,sampler,score,best_so_far,state\n"
            "0,1.5,xgboost,none,0.5,0.5,complete\n1,soon,xgboost,none,0.6,0.6,complete\n",
            "line 3, column elapsed_seconds: 'soon' is not a number",
        ),
        (run_files.ENSEMBLE_FILE, "{not json", "not valid JSON"),
        (
            run_files.ENSEMBLE_FILE,
            json.dumps({**_ensemble(), "members": [{"name": "a", "learner": "x", "sampler": "n"}]}),
            "members[0].weight must be a float",
        ),
        (run_files.ENSEMBLE_FILE, json.dumps({**_ensemble(), "chosen": "yes"}), "'chosen'"),
    ],
)
def test_a_malformed_run_file_is_named_not_rendered(searched, tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(run_files.RunFileError, match=re.escape(message)) as err:
        _write(tmp_path, searched)
    assert name in str(err.value)
    assert not (tmp_path / "report.html").exists()


# ---------------------------------------------------------------- metric direction


def _candidate(learner, strategy, brier, pr_auc):
    return CandidateResult(
        learner, strategy, folds=[{"brier": brier, "pr_auc": pr_auc}], threshold=0.5
    )


def test_the_runner_up_by_brier_is_the_lowest_other_brier():
    winner = _candidate("xgboost", "none", brier=0.05, pr_auc=0.60)
    close = _candidate("xgboost", "smote", brier=0.07, pr_auc=0.40)
    far = _candidate("logreg", "none", brier=0.20, pr_auc=0.70)
    broken = CandidateResult("rf", "none", error="ValueError: no")
    result = type("Result", (), {"candidates": [far, broken, winner, close], "winner": winner})
    assert stats.runner_up(result, "brier") is close
    assert stats.runner_up(result, "pr_auc") is far
    assert stats.ranked_candidates(result.candidates, "brier") == [winner, close, far]


def test_the_leaderboard_table_puts_the_lowest_brier_first_and_failures_last():
    frame = pd.DataFrame(
        {
            "learner": ["a", "b", "c", "d"],
            "strategy": ["none"] * 4,
            "selected": [False, True, False, False],
            "brier_mean": [0.30, 0.10, np.nan, 0.20],
            "brier_std": [0.01] * 4,
            "error": ["", "", "ValueError: no", ""],
        }
    )
    rows, selected = sections.leaderboard_table(frame, "brier")
    assert [r[0] for r in rows] == ["b", "d", "a", "c"]
    assert selected == 0 and rows[3][2] == "failed: ValueError: no"


def test_leaderboard_knows_each_direction_and_ranks_by_the_mean_column():
    assert metrics.higher_is_better("pr_auc") and not metrics.higher_is_better("brier")
    with pytest.raises(ValueError, match="unknown metric 'speed'"):
        metrics.higher_is_better("speed")
    frame = pd.DataFrame({"roc_auc": [0.9, 0.1, 0.5], "roc_auc_mean": [0.1, np.nan, 0.8]})
    assert list(leaderboard.rank(frame, "roc_auc").index) == [2, 0, 1]
    assert leaderboard.best(frame, "roc_auc").name == 2
    assert list(leaderboard.rank(pd.DataFrame({"brier": [0.3, 0.1]}), "brier").index) == [1, 0]


# ---------------------------------------------------------------- intervals


def _sklearn_intervals(y, p, threshold, seed):
    """The definition: scikit-learn's metrics on each resample's repeated rows."""
    from sklearn.metrics import (
        average_precision_score,
        f1_score,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    rng = np.random.default_rng(seed)
    samples = {k: [] for k in ("roc_auc", "pr_auc", "f1", "precision", "recall")}
    for _ in range(stats.BOOTSTRAP):
        i = rng.integers(0, len(y), len(y))
        if y[i].min() == y[i].max():
            continue
        pred = (p[i] >= threshold).astype(int)
        samples["roc_auc"].append(roc_auc_score(y[i], p[i]))
        samples["pr_auc"].append(average_precision_score(y[i], p[i]))
        samples["f1"].append(f1_score(y[i], pred, zero_division=0))
        samples["precision"].append(precision_score(y[i], pred, zero_division=0))
        samples["recall"].append(recall_score(y[i], pred, zero_division=0))
    return {k: (np.percentile(v, 2.5), np.percentile(v, 97.5)) for k, v in samples.items()}


def test_bootstrap_intervals_are_scikit_learns_metrics_on_the_resampled_rows():
    rng = np.random.default_rng(3)
    y = (rng.random(400) < 0.15).astype(int)
    p = np.round(0.6 * rng.random(400) + 0.3 * y, 2)  # rounded: many tied scores
    got = stats.bootstrap_intervals(y, p, threshold=0.5, seed=11)
    want = _sklearn_intervals(y, p, threshold=0.5, seed=11)
    for key, (lo, hi) in want.items():
        assert got[key] == pytest.approx((lo, hi), abs=1e-12), key


def test_interval_running_sums_give_weighted_metrics_exactly():
    rng = np.random.default_rng(5)
    y = (rng.random(3000) < 0.1).astype(int)
    p = np.round(rng.random(3000), 3)
    order = np.argsort(-p, kind="mergesort")
    ys, ps, counts = y[order], p[order], rng.integers(0, 4, 3000)
    ends = np.flatnonzero(np.r_[ps[1:] != ps[:-1], True])
    hits = np.cumsum(np.where(ys == 1, counts, 0))
    for threshold in (0.0, 0.5, 2.0):
        want = stats.weighted_metrics(ys.astype(float), ps, counts.astype(float), threshold)
        flagged = int((ps >= threshold).sum())
        assert stats._interval_metrics(hits, np.cumsum(counts), ends, flagged) == want
