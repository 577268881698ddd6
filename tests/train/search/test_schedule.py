"""Search on samples, refit on all: the rungs, the stratified samples, the
trial clock, and a sampled search end to end on a small table with a
lowered threshold."""

import csv
import json
import math

import numpy as np
import pytest

from tests.conftest import make_frame
from train.artifacts import leaderboard_rows, write_run
from train.data import load_dataset
from train.search import run_search, schedule
from train.search.candidate import CandidateResult


def test_rungs_grow_by_the_factor_below_all_rows():
    assert schedule.rungs(100_000, 120_000, 40_000) == [100_000]
    sizes = schedule.rungs(800_000, 120_000, 40_000)
    assert sizes == [40_000, 160_000, 640_000]
    assert all(b == a * schedule.GROWTH for a, b in zip(sizes, sizes[1:], strict=False))
    assert schedule.rungs(4000, 1000, 300) == [300, 1200]


def test_stratified_rows_keep_the_positive_rate():
    rng = np.random.default_rng(1)
    y = (rng.random(50_000) < 0.03).astype(int)
    for size in (1000, 7000):
        rows = schedule.stratified_rows(y, size, seed=3)
        assert len(rows) == size == len(np.unique(rows))
        assert np.all(np.diff(rows) > 0)
        assert abs(y[rows].mean() - y.mean()) <= 1 / size
        assert y[rows].sum() == math.ceil(size * y.sum() / len(y))
    assert np.array_equal(schedule.stratified_rows(y, 60_000, 3), np.arange(len(y)))


def test_clock_uses_priors_then_measured_rates():
    clock = schedule.TrialClock()
    prior = schedule.PRIOR_SECONDS_PER_ROW["xgboost"]
    assert clock.predict("xgboost", 10_000) == pytest.approx(prior * 10_000)
    clock.record("xgboost", 10_000, 2.0)
    assert clock.predict("xgboost", 40_000) == pytest.approx(8.0)
    assert clock.fits("xgboost", 40_000, 8.0 * schedule.SAFETY + 0.01)
    assert not clock.fits("xgboost", 40_000, 8.0 * schedule.SAFETY - 0.01)
    timed = CandidateResult("xgboost", "none", rows=1000, wall_seconds=1.0)
    assert clock.fits_like(timed, 4000, 4.0 * schedule.SAFETY + 0.01)
    assert not clock.fits_like(timed, 4000, 4.0 * schedule.SAFETY - 0.01)


@pytest.fixture
def big_dataset(tmp_path):
    path = tmp_path / "five-thousand.csv"
    make_frame(5000, seed=4).drop(columns=["customer_id"]).to_csv(path, index=False)
    return load_dataset(str(path), "y")


def test_sampled_search_compares_on_equal_rows_and_refits_on_all(big_dataset, config, tmp_path):
    cfg = config(["logreg", "xgboost"], ["none"], trials=4, sample_above=1000, first_rung=300)
    result = run_search(big_dataset, cfg)
    assert result.rungs == [300, 1200] and result.n_train == 4000
    explored = [t for t in result.trials if t.rows == 300]
    promoted = [t for t in result.trials if t.rows == 1200]
    assert len(explored) == 4 and 1 <= len(promoted) <= schedule.PROMOTE
    assert {schedule.key(t) for t in promoted} <= {schedule.key(t) for t in explored}
    # The winner and every candidate it was compared with were scored on 1,200 rows.
    assert result.winner.rows == 1200
    assert all(c.rows == 1200 for c in result.candidates)
    assert len(result.winner.oof) == 1200
    assert result.refit_predicted_seconds > 0
    rows = leaderboard_rows(result, cfg.metric)
    assert [r["rows"] for r in rows] == sorted((r["rows"] for r in rows), reverse=True)
    assert [r for r in rows if r["selected"]][0]["rows"] == 1200

    out = tmp_path / "run"
    write_run(out, result, big_dataset, cfg, ["test"])
    run = json.loads((out / "run.json").read_text())
    assert run["search_rows"] == [300, 1200] and run["refit"]["rows"] == 4000
    assert run["refit"]["predicted_seconds"] > 0
    with open(out / "trials.csv") as fh:
        trial_rows = list(csv.DictReader(fh))
    assert sorted({int(r["rows"]) for r in trial_rows}) == [300, 1200]


def test_small_tables_are_searched_whole(dataset, config):
    result = run_search(dataset, config(["logreg"], ["none"], trials=2))
    assert result.rungs == [result.n_train]
    assert all(t.rows == result.n_train for t in result.trials)
    assert len(result.trials) == 2


def test_a_trial_that_does_not_fit_the_time_left_is_not_started(big_dataset, config, monkeypatch):
    """With every prediction over the time left, only the first trial (a
    search needs one result) runs, and the search ends long before its budget."""
    monkeypatch.setattr(schedule, "SAFETY", 1e9)
    cfg = config(["logreg", "xgboost"], ["none"], budget=60, sample_above=1000, first_rung=300)
    result = run_search(big_dataset, cfg)
    assert len(result.trials) == 1
    assert result.search_seconds < 30
