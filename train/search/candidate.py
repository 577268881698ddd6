"""One candidate of the search: a trial's cross-validated result, or the ensemble."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from imblearn.pipeline import Pipeline

from train import leaderboard

RAW, DERIVED = "raw", "derived"  # a trial's features: the columns alone, or with derived ones


@dataclass(eq=False)  # candidates are compared by identity (they hold arrays)
class CandidateResult:
    learner: str
    strategy: str
    threshold: float = float("nan")
    folds: list[dict] = field(default_factory=list)
    oof: np.ndarray | None = None
    fit_seconds: float = 0.0
    error: str | None = None
    trial: int | None = None
    params: dict = field(default_factory=dict)
    features: str = RAW
    rounds: int | None = None  # boosters: rounds chosen by early stopping (mean over folds)
    state: str = "complete"  # complete | pruned | failed
    elapsed_seconds: float = 0.0  # since the search started, when this trial ended
    onnx_bytes: float = float("nan")
    us_per_row: float = float("nan")
    us_per_record: float = float("nan")  # one record alone, as an API call scores it
    members: list[tuple[CandidateResult, float]] | None = None  # the ensemble candidate
    sample_pipeline: Pipeline | None = None  # fitted on fold 0, to measure serving cost
    nested: list[float] | None = None  # ensemble: per-fold score of the cross-validated selection
    rows: int = 0  # training rows the scores come from (a rung's sample, or all)
    optuna_params: dict = field(default_factory=dict)  # the trial's suggestions, to rerun it
    defaults: bool = False  # the learner's untuned starting point
    wall_seconds: float = 0.0  # the whole trial, all folds

    @property
    def name(self) -> str:
        if self.members is not None:
            return "ensemble"
        return f"{self.learner}/{self.strategy}" + (
            f"#{self.trial}" if self.trial is not None else ""
        )

    def mean(self, metric: str) -> float:
        if not self.folds:
            return float("nan")
        return float(np.mean([f[metric] for f in self.folds]))

    def std(self, metric: str) -> float:
        if not self.folds:
            return float("nan")
        return float(np.std([f[metric] for f in self.folds]))

    def se(self, metric: str) -> float:
        return leaderboard.standard_error([f[metric] for f in self.folds])

    def fold_values(self, metric: str) -> list[float]:
        return [f[metric] for f in self.folds]
