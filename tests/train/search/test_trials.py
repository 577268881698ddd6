"""The Optuna loop: defaults first, reproducible with --trials, bounded by the
budget, racing out losing pairs, dropping learners that never fit."""

import pandas as pd

from train.artifacts import trial_rows
from train.search import CandidateResult, run_search
from train.search.trials import ensemble_pool, losing_pairs, pair_bests


def _trajectory(result):  # everything but the clock
    rows = pd.DataFrame(trial_rows(result, "pr_auc"))
    return rows.drop(columns=[c for c in rows if "seconds" in c])


def test_trials_make_the_search_reproducible(dataset, config):
    cfg = config(["logreg", "xgboost"], ["none", "undersample"], trials=6)
    a, b = run_search(dataset, cfg), run_search(dataset, cfg)
    assert len(a.trials) == 6
    assert _trajectory(a).equals(_trajectory(b))
    assert a.test_metrics == b.test_metrics


def test_each_learner_starts_from_its_defaults_then_trials_are_tuned(dataset, config):
    result = run_search(dataset, config(["logreg", "xgboost"], ["none", "class_weight"], trials=4))
    first = [(c.learner, c.strategy, c.params) for c in result.trials[:2]]
    assert first == [("logreg", "none", {}), ("xgboost", "none", {"learning_rate": 0.1})]
    for c in result.trials[2:]:
        assert c.params and all(k in c.params for k in ("C",) if c.learner == "logreg")


def test_a_budget_stops_the_search_but_one_trial_always_completes(dataset, config):
    result = run_search(dataset, config(["logreg", "xgboost"], ["none"], budget=0.01))
    assert sum(c.state == "complete" for c in result.trials) >= 1
    assert len(result.trials) <= 2


def test_a_learner_that_never_fits_is_dropped_after_three_failures(dataset, config, monkeypatch):
    from xgboost import XGBClassifier

    def broken(self, X, y, **kw):
        raise RuntimeError("no xgboost today")

    monkeypatch.setattr(XGBClassifier, "fit", broken)
    result = run_search(dataset, config(["logreg", "xgboost"], ["none"], trials=10))
    xgb = [c for c in result.trials if c.learner == "xgboost"]
    assert len(result.trials) == 10 and len(xgb) == 3
    assert all(c.state == "failed" and "no xgboost today" in c.error for c in xgb)
    assert result.winner.learner == "logreg"


def _trial(learner, strategy, scores, number, state="complete"):
    c = CandidateResult(learner, strategy, trial=number, state=state)
    c.folds = [{"pr_auc": s} for s in scores] if state == "complete" else []
    return c


def test_pairs_that_clearly_lose_on_the_same_folds_get_no_more_trials():
    best = _trial("xgboost", "none", [0.80, 0.84, 0.82, 0.86], 0)
    close = _trial("lightgbm", "none", [0.81, 0.84, 0.81, 0.85], 1)  # within the noise
    slightly = _trial("xgboost", "smote", [0.79, 0.83, 0.81, 0.85], 2)  # consistent, but small
    far = _trial("logreg", "none", [0.70, 0.75, 0.71, 0.77], 3)
    assert losing_pairs([best, close, slightly, far], "pr_auc") == {("logreg", "none")}


def test_a_losing_pair_is_not_run_again(dataset, config, monkeypatch):
    from train.search import trials

    monkeypatch.setattr(trials, "losing_pairs", lambda results, metric: {("logreg", "none")})
    result = run_search(dataset, config(["logreg", "tree"], ["none"], trials=6, ensemble=False))
    learners = [c.learner for c in result.trials]
    assert len(learners) == 6 and learners.count("logreg") == 1  # its first trial only


def test_the_ensemble_pool_holds_each_groups_best_before_near_copies():
    copies = [_trial("xgboost", "none", [0.90 - 0.001 * k], k) for k in range(12)]
    other = _trial("lightgbm", "none", [0.85], 12)
    pool = ensemble_pool([*copies, other], "pr_auc")
    assert len(pool) == 10 and pool[:2] == [copies[0], other] and pool[2:] == copies[1:9]


def test_each_pair_shows_its_best_trial_or_its_failure():
    worse = _trial("xgboost", "none", [0.80], 0)
    better = _trial("xgboost", "none", [0.85], 1)
    failed = _trial("logreg", "none", [], 2, state="failed")
    pruned = _trial("tree", "none", [], 3, state="pruned")
    assert pair_bests([worse, better, failed, pruned], "pr_auc") == [better, failed]


def test_smaller_is_better_when_ranking_by_brier():
    a = CandidateResult("logreg", "none", trial=0, folds=[{"brier": 0.09}])
    b = CandidateResult("tree", "none", trial=1, folds=[{"brier": 0.05}])
    assert pair_bests([a, b], "brier") == [b, a]


def test_folds_fitted_side_by_side_give_the_same_search(dataset, config):
    """Threads change who fits a fold, not what the search decides: results are
    taken in fold order, so pruning and the winner are those of one thread."""
    from dataclasses import replace

    cfg = config(["logreg", "lightgbm", "xgboost"], ["none", "smote"], trials=12, folds=4)
    one, three = run_search(dataset, cfg), run_search(dataset, replace(cfg, workers=3))

    def trajectory(result):
        rows = _trajectory(result)
        return rows.drop(columns=[c for c in rows if c.startswith("fit")])

    assert "pruned" in set(trajectory(one)["state"])
    assert trajectory(one).equals(trajectory(three))
    assert one.test_metrics == three.test_metrics
