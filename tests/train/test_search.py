"""The search is leak-free, reproducible and picks by the CV metric."""

import numpy as np
import pytest

from train import samplers
from train.data import UsageError, load_dataset
from train.search import SearchConfig, run_search


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
    result = run_search(dataset, SearchConfig(["logreg"], ["smote"], folds=4))
    n_train = result.n_train
    # four CV fits on 3/4 of the training split, then one refit on all of it; never the test rows
    assert len(seen) == 5
    assert all(abs(n - n_train * 3 / 4) <= 1 for n in seen[:4])
    assert seen[4] == n_train
    assert n_train + len(result.y_test) == len(dataset.y)


def test_search_is_reproducible(dataset):
    config = SearchConfig(["logreg", "xgboost"], ["none", "undersample"], folds=3)
    a, b = run_search(dataset, config), run_search(dataset, config)
    assert [c.mean("pr_auc") for c in a.candidates] == [c.mean("pr_auc") for c in b.candidates]
    assert a.test_metrics == b.test_metrics


def test_winner_has_the_best_cv_metric_and_a_usable_model(dataset):
    result = run_search(
        dataset, SearchConfig(["logreg", "tree"], ["none", "class_weight"], folds=3)
    )
    best = max(c.mean("pr_auc") for c in result.candidates)
    assert result.winner.mean("pr_auc") == best
    p = result.model.predict_proba(result.X_test)
    assert p.shape == (len(result.y_test),) and np.all((p >= 0) & (p <= 1))
    assert set(np.unique(result.model.predict(result.X_test))) <= {0, 1}


def test_resampled_winner_is_calibrated_by_default(dataset):
    result = run_search(dataset, SearchConfig(["logreg"], ["undersample"], folds=3))
    report = result.calibration_report
    assert report["applied"] and result.model.calibration is not None
    assert report["oof_brier_after"] < report["oof_brier_before"]


def test_too_few_positives_for_smote_is_a_usage_error(dataset):
    dataset.y = np.zeros_like(dataset.y)
    dataset.y[:8] = 1
    with pytest.raises(UsageError, match="smote needs more than 5 minority rows"):
        run_search(dataset, SearchConfig(["logreg"], ["smote"], folds=5))


def test_a_failing_candidate_is_reported_not_fatal(dataset, monkeypatch):
    def broken(self, X, y):
        raise RuntimeError("cannot resample")

    monkeypatch.setattr(samplers.CategoricalSMOTE, "fit_resample", broken)
    result = run_search(dataset, SearchConfig(["logreg"], ["none", "smote"], folds=3))
    failed = [c for c in result.candidates if c.error]
    assert [c.strategy for c in failed] == ["smote"] and "cannot resample" in failed[0].error
    assert result.winner.strategy == "none"
