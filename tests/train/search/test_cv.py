"""Cross-validation is leak-free, and refuses data too small for its folds."""

import numpy as np
import pytest

from train import samplers
from train.data import UsageError
from train.search import run_search
from train.search.cv import cross_validate, cv_splits, fold_ids


def test_resamplers_only_ever_see_training_folds(dataset, config, monkeypatch):
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


def test_too_few_positives_for_smote_is_a_usage_error(dataset, config):
    dataset.y = np.zeros_like(dataset.y)
    dataset.y[:8] = 1
    with pytest.raises(UsageError, match="smote needs more than 5 minority rows"):
        run_search(dataset, config(["logreg"], ["smote"], folds=5))


def test_every_row_is_scored_once_out_of_fold_and_fold_ids_match_the_splits(dataset, config):
    from train.search import train_schema

    cfg = config(["logreg"], ["none"])
    schema = train_schema(dataset.schema, dataset.X)
    result = cross_validate(schema, dataset.X, dataset.y, "logreg", "none", cfg, 1.0)
    assert result.state == "complete" and len(result.folds) == 3
    assert result.oof.shape == dataset.y.shape and np.all((result.oof > 0) & (result.oof < 1))
    ids = fold_ids(dataset.y, cfg)
    for k, (_, val_idx) in enumerate(cv_splits(dataset.X, dataset.y, cfg)):
        assert set(np.flatnonzero(ids == k)) == set(val_idx)


def test_a_candidate_that_cannot_fit_is_reported_as_failed(dataset, config, monkeypatch):
    from train.search import train_schema

    def broken(self, X, y):
        raise RuntimeError("cannot resample\nsecond line")

    monkeypatch.setattr(samplers.CategoricalSMOTE, "fit_resample", broken)
    schema = train_schema(dataset.schema, dataset.X)
    cfg = config(["logreg"], ["smote"])
    result = cross_validate(schema, dataset.X, dataset.y, "logreg", "smote", cfg, 1.0)
    assert result.state == "failed" and result.error == "RuntimeError: cannot resample"
    assert result.sample_pipeline is None
