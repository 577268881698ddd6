"""Ranking and "as good as the best": the order of candidates and rows, and
the standard-error rules that decide when one score beats another.

Each metric's direction comes from `train.metrics`; the search, the run
folder, the CLI and the report all rank through here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from train.metrics import sign, sort_key


def ranked(candidates, metric: str) -> list:
    """Objects with a `.mean(metric)`, best first; missing scores last, ties
    in their original order."""
    return sorted(candidates, key=lambda c: sort_key(c.mean(metric), metric))


def _column(frame: pd.DataFrame, metric: str) -> str:
    column = f"{metric}_mean" if f"{metric}_mean" in frame.columns else metric
    if column not in frame.columns:
        raise KeyError(f"neither {metric}_mean nor {metric} is a column")
    return column


def rank(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rows best first by `{metric}_mean` (or `metric`); rows without a score last.
    Ties keep their original order (stable sort)."""
    scores = pd.to_numeric(frame[_column(frame, metric)], errors="coerce")
    key = [sort_key(float(s), metric) for s in scores]
    return frame.iloc[np.argsort(key, kind="mergesort")]


def best(frame: pd.DataFrame, metric: str) -> pd.Series:
    ranked_rows = rank(frame, metric)
    if ranked_rows.empty or pd.isna(ranked_rows.iloc[0][_column(frame, metric)]):
        raise ValueError(f"no row has a {metric} score")
    return ranked_rows.iloc[0]


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
