"""The search is leak-free, reproducible, within its budget, and picks by the CV metric."""

import numpy as np
import pandas as pd
import pytest

from train import samplers
from train.data import UsageError, load_dataset
from train.search import (
    CandidateResult,
    SearchConfig,
    caruana,
    choose,
    ensemble_wins,
    run_search,
    trial_rows,
)


def config(learners, strategies, **kw):
    kw.setdefault("folds", 3)
    kw.setdefault("measure_cost", False)
    return SearchConfig(learners, strategies, **kw)


@pytest.fixture
def dataset(csv_path):
    return load_dataset(str(csv_path), "y")


def test_resamplers_only_ever_see_training_folds(dataset, monkeypatch):
    seen = []
    original = samplers.CategoricalSMOTE.fit_resample

    def spy(self, X, y):
        seen.append(len(y))
        return original(self, X, y)

    monkeypatch.setattr(samplers.CategoricalSMOTE, "fit_resample", spy)
    result = run_search(dataset, config(["logreg"], ["smote"], folds=4, trials=1))
    n_train = result.n_train
    # four CV fits on 3/4 of the training split, then one refit on all of it; never the test rows
    assert len(seen) == 5
    assert all(abs(n - n_train * 3 / 4) <= 1 for n in seen[:4])
    assert seen[4] == n_train
    assert n_train + len(result.y_test) == len(dataset.y)


def test_boosters_stop_early_on_part_of_the_training_fold_and_refit_with_those_rounds(
    dataset, monkeypatch
):
    from lightgbm import LGBMClassifier

    fits = []
    original = LGBMClassifier.fit

    def spy(self, X, y, **kw):
        fits.append((len(y), len(kw["eval_set"][0][1]) if "eval_set" in kw else None))
        return original(self, X, y, **kw)

    monkeypatch.setattr(LGBMClassifier, "fit", spy)
    result = run_search(dataset, config(["lightgbm"], ["none"], trials=1, ensemble=False))
    fold_train = result.n_train * 2 / 3
    for n_fit, n_eval in fits[:3]:  # CV: 85 % fits, 15 % decides when to stop
        assert abs(n_eval - 0.15 * fold_train) <= 2 and abs(n_fit + n_eval - fold_train) <= 1
    assert fits[3] == (result.n_train, None)  # the refit: all of the train split, no eval set
    winner = result.winner
    assert winner.rounds is not None and winner.rounds < 2000
    assert result.model.pipeline.steps[-1][1].n_estimators == winner.rounds


def test_trials_make_the_search_reproducible(dataset):
    cfg = config(["logreg", "xgboost"], ["none", "undersample"], trials=6)
    a, b = run_search(dataset, cfg), run_search(dataset, cfg)
    assert len(a.trials) == 6

    def trajectory(result):  # everything but the clock
        return pd.DataFrame(trial_rows(result, "pr_auc")).drop(columns="elapsed_seconds")

    assert trajectory(a).equals(trajectory(b))
    assert a.test_metrics == b.test_metrics


def test_each_learner_starts_from_its_defaults_then_trials_are_tuned(dataset):
    result = run_search(dataset, config(["logreg", "xgboost"], ["none", "class_weight"], trials=4))
    first = [(c.learner, c.strategy, c.params) for c in result.trials[:2]]
    assert first == [("logreg", "none", {}), ("xgboost", "none", {"learning_rate": 0.1})]
    for c in result.trials[2:]:
        assert c.params and all(k in c.params for k in ("C",) if c.learner == "logreg")


def test_a_budget_stops_the_search_but_one_trial_always_completes(dataset):
    result = run_search(dataset, config(["logreg", "xgboost"], ["none"], budget=0.01))
    assert sum(c.state == "complete" for c in result.trials) >= 1
    assert len(result.trials) <= 2


def test_winner_has_the_best_cv_metric_and_a_usable_model(dataset):
    result = run_search(
        dataset,
        config(["logreg", "tree"], ["none", "class_weight"], trials=6, ensemble=False),
    )
    best = max(c.mean("pr_auc") for c in result.trials if c.state == "complete")
    assert result.winner.mean("pr_auc") == best
    p = result.model.predict_proba(result.X_test)
    assert p.shape == (len(result.y_test),) and np.all((p >= 0) & (p <= 1))
    assert set(np.unique(result.model.predict(result.X_test))) <= {0, 1}


def test_selecting_by_brier_picks_the_smallest(dataset):
    result = run_search(
        dataset, config(["logreg", "tree"], ["none"], trials=2, metric="brier", ensemble=False)
    )
    assert result.winner.mean("brier") == min(c.mean("brier") for c in result.candidates)


def test_resampled_winner_is_calibrated_by_default(dataset):
    result = run_search(dataset, config(["logreg"], ["undersample"], trials=1))
    report = result.calibration_report
    assert report["applied"] and result.model.calibration is not None
    assert report["oof_brier_after"] < report["oof_brier_before"]


def test_too_few_positives_for_smote_is_a_usage_error(dataset):
    dataset.y = np.zeros_like(dataset.y)
    dataset.y[:8] = 1
    with pytest.raises(UsageError, match="smote needs more than 5 minority rows"):
        run_search(dataset, config(["logreg"], ["smote"], folds=5))


def test_a_failing_candidate_is_reported_not_fatal(dataset, monkeypatch):
    def broken(self, X, y):
        raise RuntimeError("cannot resample")

    monkeypatch.setattr(samplers.CategoricalSMOTE, "fit_resample", broken)
    result = run_search(dataset, config(["logreg"], ["none", "smote"], trials=2))
    failed = [c for c in result.candidates if c.error]
    assert [c.strategy for c in failed] == ["smote"] and "cannot resample" in failed[0].error
    assert result.trials[1].state == "failed"
    assert result.winner.strategy == "none"


def _candidate(name, fold_scores, us, oof=None):
    c = CandidateResult(name, "none", trial=0)
    c.folds = [{"pr_auc": s} for s in fold_scores]
    c.us_per_row = us
    c.oof = oof
    return c


def test_a_model_too_slow_to_serve_is_passed_over_for_the_best_within_the_limit():
    ensemble = _candidate("ensemble", [0.86, 0.88, 0.87, 0.89], us=31.0)
    ensemble.learner, ensemble.members, ensemble.nested = "ensemble", [], [0.86, 0.88, 0.87, 0.89]
    deep = _candidate("deep", [0.83, 0.86, 0.84, 0.87], us=24.0)
    small = _candidate("small", [0.80, 0.84, 0.82, 0.86], us=4.0)
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


def test_prefer_fast_picks_the_cheapest_as_good_as_the_best_on_the_same_folds():
    best = _candidate("slow", [0.80, 0.84, 0.82, 0.86], us=30.0)
    # behind by 0.0025 on average, the folds disagreeing: within one SE of the difference
    close = _candidate("fast", [0.81, 0.84, 0.81, 0.85], us=2.0)
    # within one SE of the best's own spread (0.013), but behind on every fold
    behind = _candidate("faster", [0.79, 0.83, 0.81, 0.85], us=1.5)
    far = _candidate("fastest", [0.70, 0.72, 0.71, 0.73], us=1.0)
    board = [best, close, behind, far]
    cfg = SearchConfig(["logreg"], ["none"])
    winner, info = choose(board, best, None, False, cfg)
    assert winner is close and info["picked"] == close.name and "prefer-fast" in info["reason"]
    assert info["within_one_se"] == [best.name, close.name]
    cfg.prefer_fast = False
    winner, info = choose(board, best, None, False, cfg)
    assert winner is best and info["reason"].startswith("best cross-validated pr_auc")


def test_prefer_fast_gives_no_score_for_a_saving_of_a_microsecond():
    best = _candidate("slow", [0.80, 0.84, 0.82, 0.86], us=1.6)
    close = _candidate("fast", [0.81, 0.84, 0.81, 0.85], us=0.8)  # 2x faster, 0.8 µs sooner
    winner, info = choose([best, close], best, None, False, SearchConfig(["logreg"], ["none"]))
    assert winner is best and "2 µs/row sooner" in info["reason"]


def test_ensemble_selection_mixes_models_that_err_differently():
    rng = np.random.default_rng(0)
    y = (rng.random(600) < 0.2).astype(int)
    signal = y + rng.normal(0, 1, (3, 600))  # three independent noisy views of y
    trials = [
        _candidate(f"m{k}", [0.5], us=1.0, oof=1 / (1 + np.exp(-signal[k]))) for k in range(3)
    ]
    for k, t in enumerate(trials):
        t.trial = k
    cfg = SearchConfig(["logreg"], ["none"], folds=3)
    ens = caruana(y, trials, cfg)
    assert ens is not None and len(ens.members) >= 2
    assert abs(sum(w for _, w in ens.members) - 1) < 1e-12
    from train.search import _cv_score, _fold_ids, _fold_values

    ids = _fold_ids(y, cfg)
    assert len(ens.folds) == 3
    assert ens.mean("pr_auc") > max(_cv_score(y, t.oof, ids, cfg) for t in trials)
    # weights chosen without each fold still beat the best member on that fold
    assert len(ens.nested) == 3
    best = max(trials, key=lambda t: _cv_score(y, t.oof, ids, cfg))
    best.folds = [{"pr_auc": v} for v in _fold_values(y, best.oof, ids, cfg)]
    assert ensemble_wins(ens, best, "pr_auc")


def test_an_ensemble_of_copies_does_not_win():
    rng = np.random.default_rng(1)
    y = (rng.random(600) < 0.2).astype(int)
    oof = 1 / (1 + np.exp(-(y + rng.normal(0, 1, 600))))
    trials = [_candidate(f"m{k}", [0.5], us=1.0, oof=oof + 1e-6 * k) for k in range(3)]
    for k, t in enumerate(trials):
        t.trial = k
    cfg = SearchConfig(["logreg"], ["none"], folds=3)
    ens = caruana(y, trials, cfg)
    from train.search import _fold_ids, _fold_values

    if ens is not None:
        single = trials[0]
        single.folds = [{"pr_auc": v} for v in _fold_values(y, single.oof, _fold_ids(y, cfg), cfg)]
        assert not ensemble_wins(ens, single, "pr_auc")


def test_fast_ranking_scores_equal_scikit_learns():
    from sklearn.metrics import average_precision_score, roc_auc_score

    from train.search import _ranking_score

    rng = np.random.default_rng(2)
    y = (rng.random(2000) < 0.1).astype(int)
    p = np.round(rng.random(2000) * 0.5 + 0.3 * y, 2)  # many ties
    assert _ranking_score(y, p, "pr_auc") == pytest.approx(average_precision_score(y, p), abs=1e-12)
    assert _ranking_score(y, p, "roc_auc") == pytest.approx(roc_auc_score(y, p), abs=1e-12)


def test_a_learner_that_never_fits_is_dropped_after_three_failures(dataset, monkeypatch):
    from xgboost import XGBClassifier

    def broken(self, X, y, **kw):
        raise RuntimeError("no xgboost today")

    monkeypatch.setattr(XGBClassifier, "fit", broken)
    result = run_search(dataset, config(["logreg", "xgboost"], ["none"], trials=10))
    xgb = [c for c in result.trials if c.learner == "xgboost"]
    assert len(result.trials) == 10 and len(xgb) == 3
    assert all(c.state == "failed" and "no xgboost today" in c.error for c in xgb)
    assert result.winner.learner == "logreg"


def test_pairs_that_clearly_lose_on_the_same_folds_get_no_more_trials():
    from train.search import losing_pairs

    def trial(learner, strategy, scores, number):
        c = CandidateResult(learner, strategy, trial=number)
        c.folds = [{"pr_auc": s} for s in scores]
        return c

    best = trial("xgboost", "none", [0.80, 0.84, 0.82, 0.86], 0)
    close = trial("lightgbm", "none", [0.81, 0.84, 0.81, 0.85], 1)  # within the noise
    slightly = trial("xgboost", "smote", [0.79, 0.83, 0.81, 0.85], 2)  # consistent, but small
    far = trial("logreg", "none", [0.70, 0.75, 0.71, 0.77], 3)
    results = [best, close, slightly, far]
    assert losing_pairs(results, "pr_auc") == {("logreg", "none")}


def test_a_losing_pair_is_not_run_again(dataset, monkeypatch):
    import train.search as search

    monkeypatch.setattr(search, "losing_pairs", lambda results, metric: {("logreg", "none")})
    result = run_search(dataset, config(["logreg", "tree"], ["none"], trials=6, ensemble=False))
    learners = [c.learner for c in result.trials]
    assert len(learners) == 6 and learners.count("logreg") == 1  # its first trial only


def test_the_ensemble_pool_holds_each_groups_best_before_near_copies():
    from train.search import _pool

    def trial(learner, score, number):
        c = CandidateResult(learner, "none", trial=number)
        c.folds = [{"pr_auc": score}]
        return c

    copies = [trial("xgboost", 0.90 - 0.001 * k, k) for k in range(12)]
    other = trial("lightgbm", 0.85, 12)
    pool = _pool([*copies, other], "pr_auc")
    assert len(pool) == 10 and pool[:2] == [copies[0], other] and pool[2:] == copies[1:9]


def test_folds_fitted_side_by_side_give_the_same_search(dataset):
    """Threads change who fits a fold, not what the search decides: results are
    taken in fold order, so pruning and the winner are those of one thread."""
    from dataclasses import replace

    cfg = config(["logreg", "lightgbm", "xgboost"], ["none", "smote"], trials=12, folds=4)
    one, three = run_search(dataset, cfg), run_search(dataset, replace(cfg, workers=3))

    def trajectory(result):
        rows = pd.DataFrame(trial_rows(result, "pr_auc"))
        return rows.drop(columns=[c for c in rows if "seconds" in c or c.startswith("fit")])

    assert "pruned" in set(trajectory(one)["state"])
    assert trajectory(one).equals(trajectory(three))
    assert one.test_metrics == three.test_metrics
