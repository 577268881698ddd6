"""The winner: the best, or the cheapest to serve that is as good on the same
folds; never one over the serving-cost limit while another is within it."""

import numpy as np
import pytest

from train.data import UsageError
from train.search import SearchConfig, run_search
from train.search.selection import choose, measure_costs, select


def test_a_model_too_slow_to_serve_is_passed_over_for_the_best_within_the_limit(candidate):
    ensemble = candidate("ensemble", [0.86, 0.88, 0.87, 0.89], us=31.0)
    ensemble.learner, ensemble.members, ensemble.nested = "ensemble", [], [0.86, 0.88, 0.87, 0.89]
    deep = candidate("deep", [0.83, 0.86, 0.84, 0.87], us=24.0)
    small = candidate("small", [0.80, 0.84, 0.82, 0.86], us=4.0)
    board = [ensemble, deep, small]
    cfg = SearchConfig(["logreg"], ["none"], max_us_per_row=20.0)
    winner, info = choose(board, deep, ensemble, True, cfg)
    assert winner is small and info["passed_over"] == ensemble.name
    assert info["over_limit"] == [ensemble.name, deep.name]
    assert "over the 20 µs/row limit (--max-us-per-row)" in info["reason"]
    cfg.max_us_per_row = None  # no limit: the clearly better ensemble is served
    winner, info = choose(board, deep, ensemble, True, cfg)
    assert winner is ensemble and "passed_over" not in info
    cfg.max_us_per_row = 1.0  # none within the limit: the best is served
    winner, info = choose(board, deep, ensemble, True, cfg)
    assert winner is deep


def test_prefer_fast_picks_the_cheapest_as_good_as_the_best_on_the_same_folds(candidate):
    best = candidate("slow", [0.80, 0.84, 0.82, 0.86], us=30.0)
    # behind by 0.0025 on average, the folds disagreeing: within one SE of the difference
    close = candidate("fast", [0.81, 0.84, 0.81, 0.85], us=2.0)
    # within one SE of the best's own spread (0.013), but behind on every fold
    behind = candidate("faster", [0.79, 0.83, 0.81, 0.85], us=1.5)
    far = candidate("fastest", [0.70, 0.72, 0.71, 0.73], us=1.0)
    board = [best, close, behind, far]
    cfg = SearchConfig(["logreg"], ["none"])
    winner, info = choose(board, best, None, False, cfg)
    assert winner is close and info["picked"] == close.name and "prefer-fast" in info["reason"]
    assert info["within_one_se"] == [best.name, close.name]
    cfg.prefer_fast = False
    winner, info = choose(board, best, None, False, cfg)
    assert winner is best and info["reason"].startswith("best cross-validated pr_auc")


def test_prefer_fast_gives_no_score_for_a_saving_of_a_microsecond(candidate):
    best = candidate("slow", [0.80, 0.84, 0.82, 0.86], us=1.6)
    close = candidate("fast", [0.81, 0.84, 0.81, 0.85], us=0.8)  # 2x faster, 0.8 µs sooner
    winner, info = choose([best, close], best, None, False, SearchConfig(["logreg"], ["none"]))
    assert winner is best and "2 µs/row sooner" in info["reason"]


def test_select_takes_the_best_usable_candidate_in_the_metrics_direction(candidate):
    a, b = candidate("a", [0.5]), candidate("b", [0.7])
    assert select([a, b], "pr_auc") is b
    a.folds, b.folds = [{"brier": 0.1}], [{"brier": 0.2}]
    assert select([a, b], "brier") is a
    b.error = "ValueError: no"
    assert select([a, b], "brier") is a
    a.error = "RuntimeError: neither"
    with pytest.raises(UsageError, match="no candidate could be trained"):
        select([a, b], "brier")


class _Progress:
    def describe(self, text):
        pass


def test_the_cost_function_handed_in_prices_every_candidate_with_a_model(candidate):
    from imblearn.pipeline import Pipeline
    from sklearn.linear_model import LogisticRegression

    from contract.schema import Schema

    priced = []

    def cost(model, X):
        priced.append((model.learner, len(X)))
        return 1000, 3.0, 40.0

    fitted = candidate("logreg", [0.8])
    fitted.sample_pipeline = Pipeline([("model", LogisticRegression())])
    gone = candidate("tree", [0.7])  # its fold-0 pipeline was dropped
    schema = Schema(features=(), target="y", positive_label="1", negative_label="0")
    measure_costs([fitted, gone], schema, np.zeros((5, 1)), _Progress(), cost)
    assert priced == [("logreg", 5)]
    assert (fitted.onnx_bytes, fitted.us_per_row, fitted.us_per_record) == (1000, 3.0, 40.0)
    assert np.isnan(gone.us_per_row)


def test_run_search_prices_candidates_with_the_cost_it_is_given(dataset, config):
    calls = []

    def cost(model, X):
        calls.append(model.learner)
        return 1, {"logreg": 9.0, "tree": 1.0}.get(model.learner, 50.0), 1.0

    cfg = config(["logreg", "tree"], ["none"], trials=2, measure_cost=True, ensemble=False)
    result = run_search(dataset, cfg, cost=cost)
    assert sorted(calls) == ["logreg", "tree"]
    assert {c.learner: c.us_per_row for c in result.candidates} == {"logreg": 9.0, "tree": 1.0}
