"""Categorical columns with many values: a capped one-hot or a lookup.

A column of a few values is one-hot encoded, as before. A column with more
than TOP_LEVELS values (a city, a zip code) would make thousands of
columns, so the run decides once, before the search, by cross-validation on
the training split alone, between
- `onehot-top`: its TOP_LEVELS most frequent values one-hot, the rest "other"
  (all zeros);
- `target`: the smoothed share of positives among the training rows with
  that value (out-of-fold within every fit, so a row never sees its own label);
- `frequency`: the share of training rows with that value.
Target and frequency encodings are one float column each, written into the
graph as a string -> float LabelEncoder (export/encoding.py). No pipeline's
design matrix is wider than MAX_WIDTH columns: one-hot widths shrink to fit.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import OneHotEncoder

from contract.schema import CATEGORICAL, Schema

TOP_LEVELS = 30  # one-hot columns of one many-valued categorical, at most
MAX_WIDTH = 256  # columns of any trial's design matrix, at most
SMOOTHING = 20.0  # rows of prior weight in a target encoding
ONEHOT_TOP, TARGET, FREQUENCY = "onehot-top", "target", "frequency"
LOOKUPS = (TARGET, FREQUENCY)
MIN_GAIN = 0.005  # ROC AUC a lookup must gain over the capped one-hot to be chosen


def _table(values: np.ndarray, y: np.ndarray | None, method: str):
    """(keys, float32 values, float32 default) of one column's lookup."""
    codes, uniques = pd.factorize(values)
    counts = np.bincount(codes, minlength=len(uniques)).astype(np.float64)
    if method == FREQUENCY:
        return list(uniques), (counts / len(values)).astype(np.float32), np.float32(0.0)
    prior = float(np.mean(y))
    sums = np.bincount(codes, weights=y, minlength=len(uniques))
    means = (sums + SMOOTHING * prior) / (counts + SMOOTHING)
    return list(uniques), means.astype(np.float32), np.float32(prior)


def _lookup(values: np.ndarray, keys, table: np.ndarray, default) -> np.ndarray:
    index = pd.Index(keys).get_indexer(values)
    return np.where(index >= 0, table[np.maximum(index, 0)], default).astype(np.float32)


class LookupEncoder(TransformerMixin, BaseEstimator):
    """One categorical column -> one float32 column by a learned lookup
    (unseen values get the default: the prior, or 0 for frequency)."""

    def __init__(self, method: str = TARGET, folds: int = 5, seed: int = 0):
        self.method = method
        self.folds = folds
        self.seed = seed

    def _values(self, X) -> np.ndarray:
        return np.asarray(X, dtype=object)[:, 0].astype(str)

    def fit(self, X, y=None):
        y = None if y is None else np.asarray(y, dtype=np.float64)
        self.keys_, self.table_, self.default_ = _table(self._values(X), y, self.method)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        self.fit(X, y)
        values = self._values(X)
        if self.method != TARGET:
            return self.transform(X)
        y = np.asarray(y, dtype=np.float64)
        out = np.empty((len(values), 1), dtype=np.float32)
        splits = StratifiedKFold(self.folds, shuffle=True, random_state=self.seed)
        for fit_idx, val_idx in splits.split(values, y.astype(int)):
            keys, table, default = _table(values[fit_idx], y[fit_idx], TARGET)
            out[val_idx, 0] = _lookup(values[val_idx], keys, table, default)
        return out

    def transform(self, X):
        return _lookup(self._values(X), self.keys_, self.table_, self.default_).reshape(-1, 1)

    def get_feature_names_out(self, input_features=None):
        return np.asarray([f"{input_features[0] if input_features is not None else 'x'}_code"])


def _oof_auc(values: np.ndarray, y: np.ndarray, method: str, folds: int, seed: int) -> float:
    encoder = LookupEncoder(method, folds, seed)
    scores = encoder.fit_transform(values.reshape(-1, 1), y)[:, 0]
    if np.ptp(scores) == 0:
        return 0.5
    auc = float(roc_auc_score(y, scores))
    return max(auc, 1 - auc)


def top_levels(values: pd.Series, n: int) -> list[str]:
    """The n most frequent values (ties by value), most frequent first."""
    counts = values.astype(str).value_counts()
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [k for k, _ in ordered[:n]]


def choose(schema: Schema, X: pd.DataFrame, y: np.ndarray, folds: int, seed: int) -> Schema:
    """The schema with each many-valued categorical's encoding decided by
    out-of-fold ROC AUC of the column alone, and its categories listed most
    frequent first (the capped one-hot keeps the head of that list)."""
    y = np.asarray(y)
    features = []
    for f in schema.features:
        if f.kind != CATEGORICAL or len(f.categories) <= TOP_LEVELS:
            features.append(f)
            continue
        values = X[f.name].astype(str)
        ordered = top_levels(values, len(f.categories))
        head = set(ordered[:TOP_LEVELS])
        capped = values.where(values.isin(head), "\x00other").to_numpy()
        scores = {ONEHOT_TOP: _oof_auc(capped, y, TARGET, folds, seed)}
        for method in LOOKUPS:
            scores[method] = _oof_auc(values.to_numpy(), y, method, folds, seed)
        best = max(LOOKUPS, key=lambda m: scores[m])
        chosen = best if scores[best] >= scores[ONEHOT_TOP] + MIN_GAIN else ONEHOT_TOP
        rest = tuple(c for c in f.categories if c not in set(ordered))
        features.append(replace(f, encoding=chosen, categories=tuple(ordered) + rest))
    return replace(schema, features=tuple(features))


def categorical_blocks(cat_features, n_numeric: int, seed: int):
    """(ColumnTransformer entries, lookup columns, one-hot group sizes) for
    build_pipeline: lookups first (numbers to a sampler), then one-hot groups
    whose widths together keep the matrix within MAX_WIDTH."""
    lookups = [f for f in cat_features if f.encoding in LOOKUPS]
    onehots = [f for f in cat_features if f.encoding not in LOOKUPS]
    blocks = [
        (f"lookup {k}", LookupEncoder(f.encoding, seed=seed), [f.name])
        for k, f in enumerate(lookups)
    ]
    widths = [len(f.categories) if not f.encoding else TOP_LEVELS for f in onehots]
    room = max(MAX_WIDTH - n_numeric - len(lookups), len(onehots))
    while sum(widths) > room:
        widest = int(np.argmax(widths))
        widths[widest] = max(1, widths[widest] - max(1, (sum(widths) - room) // len(widths)))
    if onehots:
        blocks.append(
            (
                "cat",
                OneHotEncoder(
                    categories=[
                        list(f.categories[:w]) for f, w in zip(onehots, widths, strict=True)
                    ],
                    handle_unknown="ignore",
                    sparse_output=False,
                    dtype=np.float64,
                ),
                [f.name for f in onehots],
            )
        )
    return blocks, len(lookups), widths


def describe(schema: Schema) -> list[str]:
    """'city: target encoding (2,028 values)' for each many-valued categorical."""
    return [
        f"{f.name}: {f.encoding} encoding ({len(f.categories):,} values"
        + (f", top {TOP_LEVELS} one-hot, the rest as other)" if f.encoding == ONEHOT_TOP else ")")
        for f in schema.features
        if f.encoding
    ]
