"""Derived features that become part of the model (and so of the ONNX graph).

- Sums of numeric columns: `--sum "total charge=day charge+eve charge"`, or
  found by `discover` among columns whose names share a word. Trees split on
  one column at a time, so a total that drives the target (a customer's whole
  bill) is hard for them to rebuild from its parts.
- Missing indicators: 1 where a numeric column is missing (imputation would
  otherwise hide that the value was absent).
- Sentinel indicators: 1 where a numeric column holds its frequent extreme
  value, e.g. `-1` for "never contacted"; a linear model cannot see that code.

Each is a few float32 operations that export writes as ONNX nodes (Add,
IsNaN, Equal, Cast), so callers keep sending raw columns. Which of them a
model uses is a search dimension, chosen by cross-validation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.metrics import roc_auc_score

from train.data import UsageError

MAX_SUMS = 5  # discovered sums kept, strongest first
MAX_GROUP = 8  # a shared word across more columns than this is not a "related" group
SENTINEL_MIN_SHARE = 0.05
SENTINEL_MIN_DISTINCT = 10


def parse_sum(text: str, numeric: list[str], existing: list[str]) -> tuple[str, tuple[str, ...]]:
    name, sep, rhs = text.partition("=")
    name = name.strip()
    parts = tuple(p.strip() for p in rhs.split("+") if p.strip())
    if not sep or not name or len(parts) < 2:
        raise UsageError(f"--sum {text!r}: expected NAME=COLUMN+COLUMN[+COLUMN...]")
    if name in existing:
        raise UsageError(f"--sum {text!r}: {name!r} is already a column name")
    for part in parts:
        if part not in numeric:
            raise UsageError(f"--sum {text!r}: {part!r} is not a numeric feature column")
    return name, parts


@dataclass(frozen=True)
class DerivedSpec:
    """What `DerivedFeatures` appends, in this order: sums, missing, sentinels."""

    sums: tuple[tuple[str, tuple[str, ...]], ...] = ()
    missing: tuple[tuple[str, str], ...] = ()  # (name, column)
    sentinels: tuple[tuple[str, str, float], ...] = ()  # (name, column, value)

    @property
    def names(self) -> list[str]:
        return (
            [n for n, _ in self.sums]
            + [n for n, _ in self.missing]
            + [n for n, _, _ in self.sentinels]
        )

    def __bool__(self) -> bool:
        return bool(self.sums or self.missing or self.sentinels)

    def merged(self, other: DerivedSpec) -> DerivedSpec:
        return DerivedSpec(
            self.sums + other.sums, self.missing + other.missing, self.sentinels + other.sentinels
        )

    def describe(self) -> list[str]:
        return (
            [f"{n} = {' + '.join(p)}" for n, p in self.sums]
            + [f"{n} = 1 where {c} is missing" for n, c in self.missing]
            + [f"{n} = 1 where {c} == {v:g}" for n, c, v in self.sentinels]
        )


class DerivedFeatures(TransformerMixin, BaseEstimator):
    """Appends the derived columns as float32, computed as the ONNX graph does:
    sums added left to right, indicators from float32 comparisons."""

    def __init__(self, sums=(), missing=(), sentinels=()):
        self.sums = sums
        self.missing = missing
        self.sentinels = sentinels

    def fit(self, X, y=None):
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X.copy()
        for name, parts in self.sums:
            total = X[parts[0]].to_numpy(dtype=np.float32).copy()
            for part in parts[1:]:
                total = total + X[part].to_numpy(dtype=np.float32)
            X[name] = total
        for name, column in self.missing:
            X[name] = np.isnan(X[column].to_numpy(dtype=np.float32)).astype(np.float32)
        for name, column, value in self.sentinels:
            values = X[column].to_numpy(dtype=np.float32)
            X[name] = (values == np.float32(value)).astype(np.float32)
        return X


ColumnSums = DerivedFeatures  # the name older code and pickles use


def _words(name: str) -> set[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return {w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if len(w) > 1}


def _strength(x: np.ndarray, y: np.ndarray) -> float:
    """How well one column ranks the classes on its own: |ROC AUC - 0.5|."""
    x = np.asarray(x, dtype=np.float64)
    ok = ~np.isnan(x)
    if ok.sum() < 10 or len(np.unique(y[ok])) < 2 or np.ptp(x[ok]) == 0:
        return 0.0
    return abs(float(roc_auc_score(y[ok], x[ok])) - 0.5)


def _fresh(name: str, taken: set[str]) -> str:
    candidate, k = name, 2
    while candidate in taken:
        candidate, k = f"{name} ({k})", k + 1
    taken.add(candidate)
    return candidate


def discover(X: pd.DataFrame, y: np.ndarray, numeric: list[str], taken: list[str]) -> DerivedSpec:
    """Candidate derived features from the training split alone (never the test split).

    A sum is kept when it ranks the classes better on its own than every one of
    its parts does; the search then decides by CV whether a model uses them.
    """
    names = set(taken)
    y = np.asarray(y)
    f32 = {c: X[c].to_numpy(dtype=np.float32) for c in numeric}
    groups: dict[tuple[str, ...], str] = {}
    for word in sorted({w for c in numeric for w in _words(c)}):
        members = tuple(c for c in numeric if word in _words(c))
        if 2 <= len(members) <= MAX_GROUP and members not in groups:
            groups[members] = word
    scored = []
    for members, word in groups.items():
        total = f32[members[0]].copy()
        for c in members[1:]:
            total = total + f32[c]
        gain = _strength(total, y) - max(_strength(f32[c], y) for c in members)
        if gain > 0.005:
            scored.append((gain, word, members))
    scored.sort(key=lambda t: -t[0])
    sums = tuple(
        (_fresh(f"sum of {word}", names), members) for _, word, members in scored[:MAX_SUMS]
    )
    missing = tuple(
        (_fresh(f"{c} is missing", names), c)
        for c in numeric
        if 0 < np.isnan(f32[c]).sum() < len(f32[c])
    )
    sentinels = []
    for c in numeric:
        values = f32[c][~np.isnan(f32[c])]
        if len(values) == 0:
            continue
        uniq, counts = np.unique(values, return_counts=True)
        if len(uniq) < SENTINEL_MIN_DISTINCT:
            continue
        mode = uniq[int(np.argmax(counts))]
        share = counts.max() / len(values)
        if share >= SENTINEL_MIN_SHARE and mode in (uniq[0], uniq[-1]):
            sentinels.append((_fresh(f"{c} is {float(mode):g}", names), c, float(mode)))
    return DerivedSpec(sums, missing, tuple(sentinels))
