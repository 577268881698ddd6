"""Caruana's selection blends models that err differently and is kept only
when its cross-validated selection clearly beats the best single model."""

import numpy as np

from train.search import SearchConfig
from train.search.cv import fold_ids
from train.search.ensemble import caruana, cv_score, ensemble_document, ensemble_wins, fold_values


def test_ensemble_selection_mixes_models_that_err_differently(candidate):
    rng = np.random.default_rng(0)
    y = (rng.random(600) < 0.2).astype(int)
    signal = y + rng.normal(0, 1, (3, 600))  # three independent noisy views of y
    trials = [
        candidate(f"m{k}", [0.5], us=1.0, oof=1 / (1 + np.exp(-signal[k])), trial=k)
        for k in range(3)
    ]
    cfg = SearchConfig(["logreg"], ["none"], folds=3)
    ens = caruana(y, trials, cfg)
    assert ens is not None and len(ens.members) >= 2
    assert abs(sum(w for _, w in ens.members) - 1) < 1e-12
    ids = fold_ids(y, cfg)
    assert len(ens.folds) == 3
    assert ens.mean("pr_auc") > max(cv_score(y, t.oof, ids, cfg) for t in trials)
    # weights chosen without each fold still beat the best member on that fold
    assert len(ens.nested) == 3
    best = max(trials, key=lambda t: cv_score(y, t.oof, ids, cfg))
    best.folds = [{"pr_auc": v} for v in fold_values(y, best.oof, ids, cfg)]
    assert ensemble_wins(ens, best, "pr_auc")
    doc = ensemble_document(ens, best, True, "pr_auc")
    assert doc["chosen"] and doc["gain_over_single"] > doc["gain_se"]
    assert {m["name"] for m in doc["members"]} == {m.name for m, _ in ens.members}


def test_an_ensemble_of_copies_does_not_win(candidate):
    rng = np.random.default_rng(1)
    y = (rng.random(600) < 0.2).astype(int)
    oof = 1 / (1 + np.exp(-(y + rng.normal(0, 1, 600))))
    trials = [candidate(f"m{k}", [0.5], us=1.0, oof=oof + 1e-6 * k, trial=k) for k in range(3)]
    cfg = SearchConfig(["logreg"], ["none"], folds=3)
    ens = caruana(y, trials, cfg)
    single = trials[0]
    single.folds = [{"pr_auc": v} for v in fold_values(y, single.oof, fold_ids(y, cfg), cfg)]
    assert not ensemble_wins(ens, single, "pr_auc")


def test_one_candidate_forms_no_ensemble(candidate):
    y = np.array([0, 1] * 30)
    only = candidate("m0", [0.5], oof=np.linspace(0, 1, 60))
    assert caruana(y, [only], SearchConfig(["logreg"], ["none"], folds=3)) is None
    doc = ensemble_document(None, only, False, "pr_auc")
    assert doc["cv_score"] is None and doc["members"] == []
