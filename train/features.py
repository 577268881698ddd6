"""Derived features that become part of the model (and so of the ONNX graph).

`--sum "total charge=day charge+eve charge"` adds a column that is the sum of
numeric columns. Trees split on one column at a time, so a total that drives
the target (a customer's whole bill) is hard for them to rebuild from its parts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from train.data import UsageError


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


class ColumnSums(TransformerMixin, BaseEstimator):
    """Appends float32 sums of numeric columns, added left to right (the order
    the ONNX Sum node uses, so the graph reproduces the same float32 values)."""

    def __init__(self, sums=()):
        self.sums = sums

    def fit(self, X, y=None):
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X.copy()
        for name, parts in self.sums:
            total = X[parts[0]].to_numpy(dtype=np.float32).copy()
            for part in parts[1:]:
                total = total + X[part].to_numpy(dtype=np.float32)
            X[name] = total
        return X
