"""Which way each metric points, and ranking by it: the one place that knows."""

from __future__ import annotations

import pandas as pd

LOWER_IS_BETTER = frozenset({"brier", "log_loss"})
HIGHER_IS_BETTER = frozenset(
    {"roc_auc", "pr_auc", "f1", "precision", "recall", "mcc", "balanced_accuracy", "accuracy"}
)


def higher_is_better(metric: str) -> bool:
    if metric in HIGHER_IS_BETTER:
        return True
    if metric in LOWER_IS_BETTER:
        return False
    raise ValueError(f"unknown metric {metric!r}: its direction is not known")


def _column(frame: pd.DataFrame, metric: str) -> str:
    column = f"{metric}_mean" if f"{metric}_mean" in frame.columns else metric
    if column not in frame.columns:
        raise KeyError(f"the leaderboard has no column {metric}_mean or {metric}")
    return column


def rank(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Best first; rows without a score (failed candidates) last, ties in input order."""
    return frame.sort_values(
        _column(frame, metric),
        ascending=not higher_is_better(metric),
        kind="mergesort",
        na_position="last",
    )


def best(frame: pd.DataFrame, metric: str) -> pd.Series:
    if frame.empty:
        raise ValueError("an empty leaderboard has no best row")
    return rank(frame, metric).iloc[0]
