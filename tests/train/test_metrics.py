"""train.metrics is the one place that knows each metric's direction and kind,
and every list of metrics is a view of it."""

import pytest

from train import metrics


def test_brier_is_the_metric_where_smaller_is_better():
    assert not metrics.higher_is_better("brier")
    for metric in ("pr_auc", "roc_auc", "f1", "mcc", "precision", "recall", "balanced_accuracy"):
        assert metrics.higher_is_better(metric)


def test_an_unknown_metric_is_an_error_not_a_guess():
    with pytest.raises(ValueError, match="unknown metric 'auc'"):
        metrics.higher_is_better("auc")


def test_is_better_never_prefers_a_missing_score():
    assert metrics.is_better(0.1, float("nan"), "pr_auc")
    assert not metrics.is_better(float("nan"), 0.1, "pr_auc")
    assert metrics.is_better(0.1, 0.2, "brier")


def test_ranking_metrics_need_no_threshold():
    assert {m.name for m in metrics.REGISTRY if m.kind == metrics.RANKING} == {
        "roc_auc",
        "pr_auc",
        "brier",
    }
    assert metrics.is_ranking("brier") and not metrics.is_ranking("f1")


def test_the_views_are_subsets_of_the_registry_in_its_order():
    order = [m.name for m in metrics.REGISTRY]
    assert metrics.SELECTION[0] == metrics.DEFAULT == "pr_auc"
    assert metrics.LEADERBOARD == (
        "roc_auc",
        "pr_auc",
        "f1",
        "precision",
        "recall",
        "mcc",
        "balanced_accuracy",
        "brier",
    )
    assert sorted(metrics.SELECTION) == sorted(metrics.LEADERBOARD)
    assert "accuracy" in metrics.IN_MODEL and "balanced_accuracy" not in metrics.IN_MODEL
    for view in (metrics.LEADERBOARD, metrics.IN_MODEL):
        assert list(view) == [n for n in order if n in view]


def test_missing_scores_sort_last_in_either_direction():
    keys = sorted([0.2, float("nan"), 0.5], key=lambda s: metrics.sort_key(s, "pr_auc"))
    assert keys[:2] == [0.5, 0.2]
    keys = sorted([0.2, float("nan"), 0.1], key=lambda s: metrics.sort_key(s, "brier"))
    assert keys[:2] == [0.1, 0.2]
