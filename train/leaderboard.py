"""Metric knowledge in one place: each metric's direction, ranking, and what
counts as "as good as the best" (within one standard error).

The search, the run folder, the CLI and the report all ask here, so a metric
where smaller is better (Brier) is ranked the same way everywhere.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

# Metrics where smaller is better; every other known metric is maximised.
LOWER_IS_BETTER = frozenset({"brier", "log_loss"})
# Metrics the search may select by (`--metric`).
SELECTION_METRICS = (
    "pr_auc",
    "roc_auc",
    "f1",
    "mcc",
    "balanced_accuracy",
    "precision",
    "recall",
    "brier",
)
KNOWN = frozenset(SELECTION_METRICS) | LOWER_IS_BETTER | {"accuracy"}


def higher_is_better(metric: str) -> bool:
    if metric not in KNOWN:
        raise ValueError(f"unknown metric {metric!r}; known: {', '.join(sorted(KNOWN))}")
    return metric not in LOWER_IS_BETTER


def sign(metric: str) -> float:
    """+1 when larger is better, -1 otherwise: `sign * value` is always maximised."""
    return 1.0 if higher_is_better(metric) else -1.0


def is_better(a: float, b: float, metric: str) -> bool:
    """True when score `a` beats score `b` (NaN never beats anything)."""
    if math.isnan(a):
        return False
    if math.isnan(b):
        return True
    return sign(metric) * a > sign(metric) * b


def _column(frame: pd.DataFrame, metric: str) -> str:
    column = f"{metric}_mean" if f"{metric}_mean" in frame.columns else metric
    if column not in frame.columns:
        raise KeyError(f"neither {metric}_mean nor {metric} is a column")
    return column


def rank(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rows best first by `{metric}_mean` (or `metric`); rows without a score last.
    Ties keep their original order (stable sort)."""
    column = _column(frame, metric)
    scores = pd.to_numeric(frame[column], errors="coerce")
    key = (-sign(metric) * scores).fillna(np.inf)
    order = np.argsort(key.to_numpy(), kind="mergesort")
    return frame.iloc[order]


def best(frame: pd.DataFrame, metric: str) -> pd.Series:
    ranked = rank(frame, metric)
    if ranked.empty or pd.isna(ranked.iloc[0][_column(frame, metric)]):
        raise ValueError(f"no row has a {metric} score")
    return ranked.iloc[0]


def standard_error(fold_scores) -> float:
    """Standard error of the mean of per-fold scores (sample std / sqrt(k))."""
    values = np.asarray([v for v in fold_scores if not math.isnan(v)], dtype=float)
    if len(values) < 2:
        return 0.0
    return float(values.std(ddof=1) / math.sqrt(len(values)))


def within_one_se(score: float, best_score: float, best_se: float, metric: str) -> bool:
    """Is `score` statistically as good as the best (no worse than best - 1 SE)?"""
    if math.isnan(score):
        return False
    return sign(metric) * (best_score - score) <= best_se + 1e-12


def clearly_better(a: float, b: float, se: float, metric: str) -> bool:
    """Does `a` beat `b` by more than the CV noise `se`?"""
    return sign(metric) * (a - b) > se


def paired_difference(a_folds, b_folds, metric: str) -> tuple[float, float]:
    """How much `a` beats `b` on the same folds: the mean of the per-fold
    differences (positive when `a` is better, in `metric`'s direction) and its
    standard error.

    Two models scored on the same folds share each fold's difficulty, so the
    noise in their difference is far smaller than either model's own spread
    over folds; this is the noise that decides whether one beats the other."""
    a = np.asarray(a_folds, dtype=float)
    b = np.asarray(b_folds, dtype=float)
    if a.shape != b.shape or a.size == 0:
        raise ValueError("paired scores need the same folds")
    d = sign(metric) * (a - b)
    d = d[~np.isnan(d)]
    if d.size == 0:
        return float("nan"), float("nan")
    return float(d.mean()), standard_error(d)


def clearly_better_paired(a_folds, b_folds, metric: str) -> bool:
    """Does `a` beat `b` on the same folds by more than one SE of the difference?"""
    gain, se = paired_difference(a_folds, b_folds, metric)
    return not math.isnan(gain) and gain > se + 1e-12


def within_noise_paired(a_folds, best_folds, metric: str) -> bool:
    """Is `a` as good as the best on the same folds: behind it by no more than
    one SE of their per-fold difference?"""
    gain, se = paired_difference(best_folds, a_folds, metric)
    return not math.isnan(gain) and gain <= se + 1e-12
