"""Pipelines are built per candidate; boosters stop early on part of the
training fold, and give up when their trial is cancelled."""

import threading

import pytest

from train.search import build_pipeline, run_search, train_schema
from train.search.fitting import Stop, fit_early_stopped


def test_boosters_stop_early_on_part_of_the_training_fold_and_refit_with_those_rounds(
    dataset, config, monkeypatch
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


@pytest.mark.parametrize("learner", ["xgboost", "lightgbm"])
def test_a_booster_fit_returns_the_rounds_it_kept(dataset, learner):
    schema = train_schema(dataset.schema, dataset.X)
    pipe = build_pipeline(schema, learner, "none", 0, 1.0, params={"early_stopping": True})
    rounds = fit_early_stopped(pipe, dataset.X, dataset.y, learner, "none", 0)
    assert 1 <= rounds <= pipe.steps[-1][1].n_estimators


def test_a_cancelled_xgboost_fit_stops_and_drops_the_trial(dataset):
    schema = train_schema(dataset.schema, dataset.X)
    pipe = build_pipeline(schema, "xgboost", "none", 0, 1.0, params={"early_stopping": True})
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Stop, match="out of budget"):
        fit_early_stopped(pipe, dataset.X, dataset.y, "xgboost", "none", 0, cancel=cancel)
    assert pipe.steps[-1][1].get_booster().num_boosted_rounds() == 1  # one round, then it stopped
