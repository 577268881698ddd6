"""Threshold objectives and calibration behave as their names promise."""

import numpy as np
import pytest

from train.data import UsageError
from train.evaluate import (
    PlattCalibration,
    ThresholdObjective,
    auc,
    choose_threshold,
    threshold_metrics,
)

rng = np.random.default_rng(1)
Y = (rng.random(4000) < 0.1).astype(int)
P = np.clip(0.1 + 0.5 * Y + rng.normal(0, 0.2, Y.size), 0, 1)


def at(t):
    return threshold_metrics(Y, P, t)


def test_f1_threshold_beats_every_other_cut():
    best = at(choose_threshold(Y, P, ThresholdObjective("f1")))["f1"]
    assert all(at(t)["f1"] <= best + 1e-12 for t in np.linspace(0.01, 0.99, 99))


def test_min_precision_meets_the_floor_with_the_most_recall():
    t = choose_threshold(Y, P, ThresholdObjective("min_precision", 0.8))
    m = at(t)
    assert m["precision"] >= 0.8
    assert all(
        at(u)["recall"] <= m["recall"] for u in np.linspace(0, 1, 101) if at(u)["precision"] >= 0.8
    )


def test_min_recall_meets_the_floor():
    assert at(choose_threshold(Y, P, ThresholdObjective("min_recall", 0.9)))["recall"] >= 0.9


def test_higher_false_negative_cost_lowers_the_threshold():
    cheap = choose_threshold(Y, P, ThresholdObjective("cost", 1))
    dear = choose_threshold(Y, P, ThresholdObjective("cost", 20))
    assert dear < cheap


@pytest.mark.parametrize("text", ["f2", "min_precision=2", "cost=-1", "min_recall=abc", "cost"])
def test_bad_objectives_are_usage_errors(text):
    with pytest.raises(UsageError, match="threshold-objective"):
        ThresholdObjective.parse(text)


def test_parse_round_trips():
    assert str(ThresholdObjective.parse("min_precision=0.6")) == "min_precision=0.6"


def test_platt_calibration_repairs_oversampled_probabilities():
    true_p = rng.uniform(0.0, 0.3, 20000)
    y = (rng.random(true_p.size) < true_p).astype(int)
    inflated = 1 / (1 + np.exp(-(np.log(true_p / (1 - true_p)) + 2.0)))  # what resampling does
    cal = PlattCalibration.fit(y, inflated)
    brier = lambda p: np.mean((p - y) ** 2)  # noqa: E731
    assert brier(cal.apply(inflated)) < brier(inflated) - 0.01
    assert cal.apply(inflated).mean() == pytest.approx(y.mean(), abs=0.01)


def test_fast_ranking_scores_equal_scikit_learns():
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(2)
    y = (rng.random(2000) < 0.1).astype(int)
    p = np.round(rng.random(2000) * 0.5 + 0.3 * y, 2)  # many ties
    assert auc(y, p, "pr_auc") == pytest.approx(average_precision_score(y, p), abs=1e-12)
    assert auc(y, p, "roc_auc") == pytest.approx(roc_auc_score(y, p), abs=1e-12)
