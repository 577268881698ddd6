"""Metrics, decision-threshold objectives and probability calibration.

Thresholds and calibration are fitted on out-of-fold predictions of the
training split only; the test split is scored once, at the very end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    matthews_corrcoef,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
    roc_auc_score,
)

from train.data import UsageError

# Probabilities are clipped this far from 0 and 1 before taking logits.
EPS = 2.0**-10  # see PlattCalibration.apply


@dataclass(frozen=True)
class ThresholdObjective:
    """How the decision threshold is picked: `f1`, `min_precision=0.6`,
    `min_recall=0.8`, or `cost=5` (a false negative costs 5 false positives)."""

    kind: str
    value: float | None = None

    @classmethod
    def parse(cls, text: str) -> ThresholdObjective:
        name, _, raw = text.partition("=")
        name = name.strip().lower()
        if name == "f1" and not raw:
            return cls("f1")
        if name in ("min_precision", "min_recall", "cost"):
            try:
                value = float(raw)
            except ValueError:
                raise UsageError(
                    f"--threshold-objective {text!r}: {name} needs a number, e.g. {name}=0.5"
                ) from None
            if name != "cost" and not 0 < value < 1:
                raise UsageError(f"--threshold-objective {text!r}: {name} must be in (0, 1)")
            if name == "cost" and not (value > 0 and math.isfinite(value)):
                raise UsageError(f"--threshold-objective {text!r}: cost must be positive")
            return cls(name, value)
        raise UsageError(
            f"unknown --threshold-objective {text!r}; use f1, min_precision=P, "
            "min_recall=R or cost=FN_TO_FP_RATIO"
        )

    def __str__(self) -> str:
        return self.kind if self.value is None else f"{self.kind}={self.value:g}"


def cut_counts(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True and false positives when predicting positive for p >= t, for each
    distinct score t from the highest down: (tp, fp, t), from one sort. The
    sums are taken at the end of each run of equal scores, so the order within
    a run does not matter: the (SIMD) quicksort gives the same counts as a
    stable sort, several times sooner."""
    order = np.argsort(-p)
    ps, ys = p[order], y[order]
    last_of_run = np.r_[ps[1:] != ps[:-1], True]
    tp = np.cumsum(ys)[last_of_run].astype(float)
    fp = np.cumsum(1 - ys)[last_of_run].astype(float)
    return tp, fp, ps[last_of_run]


def choose_threshold(y: np.ndarray, p: np.ndarray, objective: ThresholdObjective) -> float:
    """The score t such that `p >= t` best meets the objective on (y, p)."""
    tp, fp, thresholds = cut_counts(y, p)
    positives = float(y.sum())
    precision = tp / np.maximum(tp + fp, 1)
    recall = tp / max(positives, 1)
    if objective.kind == "f1":
        score = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    elif objective.kind == "min_precision":
        score = np.where(precision >= objective.value, recall + 1e-9 * precision, -1)
    elif objective.kind == "min_recall":
        score = np.where(recall >= objective.value, precision + 1e-9 * recall, -1)
    else:  # cost: minimise cost_ratio * FN + FP
        fn = positives - tp
        score = -(objective.value * fn + fp)
    return float(thresholds[int(np.argmax(score))])


def threshold_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    pred = (p >= threshold).astype(int)
    return {
        "f1": float(f1_score(y, pred, zero_division=0)),
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "mcc": float(matthews_corrcoef(y, pred)) if len(np.unique(pred)) > 1 else 0.0,
        "balanced_accuracy": float(balanced_accuracy_score(y, pred)),
        "accuracy": float(accuracy_score(y, pred)),
    }


AUC_METRICS = ("roc_auc", "pr_auc")


def auc(y: np.ndarray, p: np.ndarray, metric: str) -> float:
    """ROC or PR AUC from `cut_counts` (scikit-learn's values, ties included),
    without scikit-learn's input checks, which dominate when thousands of
    blends are scored. Both classes must be present."""
    tp, fp, _ = cut_counts(y, p)
    P, N = tp[-1], fp[-1]
    if metric == "pr_auc":
        return float(np.sum(np.diff(np.r_[0.0, tp]) / P * tp / (tp + fp)))
    tp0, fp0 = np.r_[0.0, tp[:-1]], np.r_[0.0, fp[:-1]]
    return float(np.sum((fp - fp0) * (tp + tp0)) / (2 * P * N))


def ranking_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
    }


def per_class_table(y: np.ndarray, pred: np.ndarray, negative: str, positive: str) -> list[dict]:
    """Precision/recall/F1/support per class."""
    precision, recall, f1, support = precision_recall_fscore_support(
        y, pred, labels=[0, 1], zero_division=0
    )
    return [
        {
            "class": label,
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate([negative, positive])
    ]


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True)
class PlattCalibration:
    """p' = sigmoid(slope * logit(p) + intercept), fitted on out-of-fold scores.

    One formula for every learner (trees, boosting, the network), so export can
    write it as a few ONNX nodes after any classifier.
    """

    slope: float
    intercept: float

    @classmethod
    def fit(cls, y: np.ndarray, p: np.ndarray) -> PlattCalibration:
        from sklearn.linear_model import LogisticRegression

        z = logit(p).reshape(-1, 1)
        lr = LogisticRegression(C=1e6, max_iter=1000).fit(z, y)
        return cls(float(lr.coef_[0, 0]), float(lr.intercept_[0]))

    def apply(self, p: np.ndarray) -> np.ndarray:
        # The graph carries the classifier's probability as float32, whose last
        # bit near 1 is a large relative change in 1 - p. Reading p as float32
        # here, and clipping at 2**-10 (exact in float32) on both sides, keeps
        # graph and pipeline within the 1e-5 parity bar; scores beyond the clip
        # share one calibrated value.
        p = np.asarray(p).astype(np.float32).astype(np.float64)
        return 1.0 / (1.0 + np.exp(-(self.slope * logit(p) + self.intercept)))
