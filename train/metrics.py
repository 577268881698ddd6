"""Every metric the project computes: its name, the way it improves and its
kind. The search, the run folder, the CLI, the report and export all read this
one table, so a metric where smaller is better (Brier) ranks the same way
everywhere and each list of metrics is a view of it."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Kinds: a ranking metric is computed from the scores alone; a threshold
# metric from the labels predicted at the decision threshold.
RANKING = "ranking"
THRESHOLD = "threshold"


@dataclass(frozen=True)
class Metric:
    name: str
    label: str  # as the report and the CLI print it
    higher_is_better: bool
    kind: str
    selectable: bool = True  # `--metric` may pick the winner by it; on the leaderboard
    in_model: bool = True  # carried in model.onnx's test_metrics (docs/export.md)


# In the leaderboard's column order.
REGISTRY: tuple[Metric, ...] = (
    Metric("roc_auc", "ROC AUC", True, RANKING),
    Metric("pr_auc", "PR AUC", True, RANKING),
    Metric("f1", "F1", True, THRESHOLD),
    Metric("precision", "precision", True, THRESHOLD),
    Metric("recall", "recall", True, THRESHOLD),
    Metric("mcc", "MCC", True, THRESHOLD),
    Metric("balanced_accuracy", "balanced accuracy", True, THRESHOLD, in_model=False),
    Metric("accuracy", "accuracy", True, THRESHOLD, selectable=False),
    Metric("brier", "Brier", False, RANKING),
)
BY_NAME = {m.name: m for m in REGISTRY}
DEFAULT = "pr_auc"
# Metrics the search may select by (`--metric`), the default first.
SELECTION = (DEFAULT,) + tuple(m.name for m in REGISTRY if m.selectable and m.name != DEFAULT)
# The leaderboard's metric columns (each with a mean and a std over folds).
LEADERBOARD = tuple(m.name for m in REGISTRY if m.selectable)
# The test metrics model.onnx carries.
IN_MODEL = tuple(m.name for m in REGISTRY if m.in_model)


def get(name: str) -> Metric:
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown metric {name!r}; known: {', '.join(sorted(BY_NAME))}") from None


def higher_is_better(name: str) -> bool:
    return get(name).higher_is_better


def is_ranking(name: str) -> bool:
    """Computed from the scores alone, with no decision threshold."""
    return get(name).kind == RANKING


def sign(name: str) -> float:
    """+1 when larger is better, -1 otherwise: `sign * value` is always maximised."""
    return 1.0 if higher_is_better(name) else -1.0


def is_better(a: float, b: float, name: str) -> bool:
    """True when score `a` beats score `b` (NaN never beats anything)."""
    if math.isnan(a):
        return False
    if math.isnan(b):
        return True
    return sign(name) * a > sign(name) * b


def sort_key(score: float, name: str) -> float:
    """Ascending key that puts the best score first and a missing one last."""
    return math.inf if math.isnan(score) else -sign(name) * score
