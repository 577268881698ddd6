"""train.leaderboard ranks rows and candidates, and says when one score beats another."""

import math

import pandas as pd
import pytest

from train import leaderboard


def test_rank_puts_the_best_first_in_each_direction():
    frame = pd.DataFrame(
        {"name": ["a", "b", "c"], "pr_auc_mean": [0.3, 0.5, 0.4], "brier_mean": [0.05, 0.09, 0.07]}
    )
    assert list(leaderboard.rank(frame, "pr_auc")["name"]) == ["b", "c", "a"]
    assert list(leaderboard.rank(frame, "brier")["name"]) == ["a", "c", "b"]
    assert leaderboard.best(frame, "brier")["name"] == "a"


def test_rank_reads_the_plain_column_and_puts_missing_scores_last():
    frame = pd.DataFrame({"name": ["a", "b", "c"], "f1": [float("nan"), 0.2, 0.6]})
    assert list(leaderboard.rank(frame, "f1")["name"]) == ["c", "b", "a"]
    with pytest.raises(ValueError, match="no row has a f1 score"):
        leaderboard.best(frame.iloc[:1], "f1")


def test_one_standard_error_rule():
    se = leaderboard.standard_error([0.80, 0.82, 0.84, 0.86])
    assert math.isclose(se, 0.01290994, rel_tol=1e-6)
    assert leaderboard.within_one_se(0.83, 0.84, se, "pr_auc")
    assert not leaderboard.within_one_se(0.82, 0.84, se, "pr_auc")
    assert leaderboard.within_one_se(0.061, 0.05, 0.02, "brier")
    assert not leaderboard.within_one_se(0.08, 0.05, 0.02, "brier")
    assert leaderboard.clearly_better(0.86, 0.84, se, "pr_auc")
    assert not leaderboard.clearly_better(0.85, 0.84, se, "pr_auc")
    assert leaderboard.clearly_better(0.04, 0.07, 0.02, "brier")


def test_paired_comparison_uses_the_noise_of_the_difference():
    best = [0.80, 0.84, 0.82, 0.86]
    shifted = [v - 0.01 for v in best]  # behind on every fold by the same amount
    gain, se = leaderboard.paired_difference(best, shifted, "pr_auc")
    assert gain == pytest.approx(0.01) and se == pytest.approx(0.0, abs=1e-12)
    assert leaderboard.clearly_better_paired(best, shifted, "pr_auc")
    assert not leaderboard.within_noise_paired(shifted, best, "pr_auc")
    mixed = [0.81, 0.84, 0.81, 0.85]
    assert leaderboard.within_noise_paired(mixed, best, "pr_auc")
    assert not leaderboard.clearly_better_paired(best, mixed, "pr_auc")
    # smaller is better for Brier
    assert leaderboard.clearly_better_paired([0.05, 0.06], [0.07, 0.08], "brier")


class _Scored:
    def __init__(self, name, score):
        self.name, self.score = name, score

    def mean(self, metric):
        return self.score


def test_ranked_candidates_best_first_ties_in_order_missing_last():
    a, b, c, d = _Scored("a", 0.5), _Scored("b", float("nan")), _Scored("c", 0.7), _Scored("d", 0.5)
    assert [x.name for x in leaderboard.ranked([a, b, c, d], "pr_auc")] == ["c", "a", "d", "b"]
    assert [x.name for x in leaderboard.ranked([a, b, c, d], "brier")] == ["a", "d", "c", "b"]
