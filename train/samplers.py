"""Imbalance strategies. Resamplers run inside imbalanced-learn pipelines, so
they only ever see the training folds; they are fit-time only and never part
of the exported graph.

SMOTE with categorical columns: plain SMOTE on one-hot columns would invent
rows that are 0.3 "married" and 0.7 "single". `CategoricalSMOTE` works on the
encoded matrix the pipeline produces, folds each one-hot group back into one
categorical code, runs SMOTENC (SMOTEN when there are no numeric columns) and
re-expands, so every synthetic row is a valid category. Numeric columns are
standardised for the neighbour search only, so that a wide-ranged column
(an account balance) does not drown the others; synthetic rows come back in
the original units. ADASYN has no categorical variant in imbalanced-learn, so
it interpolates the one-hot columns; the docs say so.
"""

from __future__ import annotations

import numpy as np
from imblearn.over_sampling import ADASYN, SMOTE, SMOTEN, SMOTENC
from imblearn.under_sampling import RandomUnderSampler, TomekLinks
from sklearn.base import BaseEstimator

NONE = "none"
CLASS_WEIGHT = "class_weight"
SMOTE_NAME = "smote"
ADASYN_NAME = "adasyn"
SMOTE_TOMEK = "smote_tomek"
UNDERSAMPLE = "undersample"
STRATEGIES = [NONE, CLASS_WEIGHT, SMOTE_NAME, ADASYN_NAME, SMOTE_TOMEK, UNDERSAMPLE]
RESAMPLERS = {SMOTE_NAME, ADASYN_NAME, SMOTE_TOMEK, UNDERSAMPLE}
# Neighbours used by SMOTE / ADASYN; a training fold needs more positives than this.
K_NEIGHBORS = 5


class CategoricalSMOTE(BaseEstimator):
    """SMOTE(NC) on an encoded matrix: `n_numeric` numeric columns first, then
    one-hot groups of the given sizes. With `tomek=True`, Tomek links are
    removed afterwards (SMOTE+Tomek)."""

    def __init__(
        self, n_numeric=0, group_sizes=(), k_neighbors=K_NEIGHBORS, tomek=False, random_state=None
    ):
        self.n_numeric = n_numeric
        self.group_sizes = group_sizes
        self.k_neighbors = k_neighbors
        self.tomek = tomek
        self.random_state = random_state

    def fit_resample(self, X, y):
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        nn = self.n_numeric
        if not self.group_sizes:
            Xr, yr = self._smote_numeric(X, y)
        else:
            numeric = X[:, :nn]
            mean = numeric.mean(axis=0)
            std = numeric.std(axis=0)
            std[std == 0] = 1.0
            bounds = np.cumsum([nn, *self.group_sizes])
            codes = np.column_stack(
                [X[:, a:b].argmax(axis=1) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
            )
            if nn:
                Z = np.column_stack([(numeric - mean) / std, codes])
                sampler = SMOTENC(
                    categorical_features=list(range(nn, nn + codes.shape[1])),
                    k_neighbors=self.k_neighbors,
                    random_state=self.random_state,
                )
            else:
                Z = codes
                sampler = SMOTEN(k_neighbors=self.k_neighbors, random_state=self.random_state)
            Zr, yr = sampler.fit_resample(Z, y)
            parts = [Zr[:, :nn] * std + mean] if nn else []
            for j, size in enumerate(self.group_sizes):
                onehot = np.zeros((len(Zr), size))
                onehot[np.arange(len(Zr)), Zr[:, nn + j].astype(int)] = 1.0
                parts.append(onehot)
            Xr = np.column_stack(parts)
        if self.tomek:
            Xr, yr = TomekLinks().fit_resample(Xr, yr)
        return Xr, yr

    def _smote_numeric(self, X, y):
        return SMOTE(k_neighbors=self.k_neighbors, random_state=self.random_state).fit_resample(
            X, y
        )


def build_sampler(name: str, n_numeric: int, group_sizes: list[int], seed: int):
    """The resampler for a strategy, or None for `none` / `class_weight`."""
    if name == SMOTE_NAME:
        return CategoricalSMOTE(n_numeric, tuple(group_sizes), random_state=seed)
    if name == SMOTE_TOMEK:
        return CategoricalSMOTE(n_numeric, tuple(group_sizes), tomek=True, random_state=seed)
    if name == ADASYN_NAME:
        return ADASYN(n_neighbors=K_NEIGHBORS, random_state=seed)
    if name == UNDERSAMPLE:
        return RandomUnderSampler(random_state=seed)
    return None
