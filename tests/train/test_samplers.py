"""Resamplers: valid synthetic rows, and only ever fed training folds."""

import numpy as np

from train.samplers import CategoricalSMOTE


def encoded(n=400, seed=0):
    rng = np.random.default_rng(seed)
    numeric = np.column_stack([rng.normal(0, 1, n), rng.normal(1000, 500, n)])
    codes_a = rng.integers(0, 3, n)
    codes_b = rng.integers(0, 2, n)
    onehot = np.column_stack([np.eye(3)[codes_a], np.eye(2)[codes_b]])
    y = (rng.random(n) < 0.1).astype(int)
    return np.column_stack([numeric, onehot]), y


def test_categorical_smote_balances_and_keeps_one_hot_groups_valid():
    X, y = encoded()
    Xr, yr = CategoricalSMOTE(n_numeric=2, group_sizes=(3, 2), random_state=0).fit_resample(X, y)
    assert (yr == 1).sum() == (yr == 0).sum()
    groups = Xr[:, 2:5], Xr[:, 5:7]
    for g in groups:
        assert set(np.unique(g)) <= {0.0, 1.0}
        assert np.all(g.sum(axis=1) == 1)


def test_synthetic_numbers_stay_in_the_original_units():
    X, y = encoded()
    Xr, _ = CategoricalSMOTE(n_numeric=2, group_sizes=(3, 2), random_state=0).fit_resample(X, y)
    pos = X[y == 1, 1]
    assert pos.min() - 1e-9 <= Xr[len(X) :, 1].min() and Xr[len(X) :, 1].max() <= pos.max() + 1e-9


def test_all_categorical_and_all_numeric_inputs_work():
    X, y = encoded()
    _, yr = CategoricalSMOTE(n_numeric=0, group_sizes=(3, 2), random_state=0).fit_resample(
        X[:, 2:], y
    )
    assert (yr == 1).sum() == (yr == 0).sum()
    _, yr = CategoricalSMOTE(n_numeric=2, random_state=0).fit_resample(X[:, :2], y)
    assert (yr == 1).sum() == (yr == 0).sum()


def test_tomek_variant_removes_rows_after_oversampling():
    X, y = encoded()
    plain = CategoricalSMOTE(n_numeric=2, group_sizes=(3, 2), random_state=0).fit_resample(X, y)[0]
    tomek = CategoricalSMOTE(n_numeric=2, group_sizes=(3, 2), tomek=True, random_state=0)
    assert len(tomek.fit_resample(X, y)[0]) <= len(plain)
