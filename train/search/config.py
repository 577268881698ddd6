"""What to search and how: SearchConfig checks itself when it is built, so a
library caller gets the same one-line errors as the command line."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from train import evaluate, metrics
from train.data import UsageError
from train.models import LEARNERS
from train.samplers import STRATEGIES

CALIBRATION = ("auto", "on", "off")


@dataclass
class SearchConfig:
    learners: list[str]
    strategies: list[str]
    folds: int = 5
    seed: int = 42
    test_size: float = 0.2
    metric: str = metrics.DEFAULT
    objective: evaluate.ThresholdObjective = field(
        default_factory=lambda: evaluate.ThresholdObjective("f1")
    )
    calibration: str = "auto"  # auto | on | off
    sums: tuple[tuple[str, tuple[str, ...]], ...] = ()  # the user's --sum features
    budget: float = 120.0  # seconds of search (ignored when trials is set)
    trials: int | None = None  # exactly this many trials: reproducible
    auto_features: bool = True  # let the search try discovered derived features
    ensemble: bool = True
    prefer_fast: bool = True
    measure_cost: bool = True  # ONNX size and onnxruntime time of each candidate
    # Candidates whose graph takes longer than this per row of a batch are not
    # picked while one within it is (None: no limit; see selection.choose).
    max_us_per_row: float | None = None
    jobs: int = 1  # threads per fit of a threaded learner (boosters, random forest); -1 = all
    workers: int = 1  # CV folds fitted side by side, on threads
    # Training splits above this many rows are searched on row samples (rungs),
    # the first of first_rung rows; the winner is refit on all (train.search.schedule).
    sample_above: int = 120_000
    first_rung: int = 10_000
    storage: str | None = None  # Optuna storage shared by several processes (--storage)
    study: str | None = None  # the study's name in it (--study)

    def __post_init__(self) -> None:
        _known(self.learners, list(LEARNERS), "model")
        _known(self.strategies, list(STRATEGIES), "sampler")
        if self.metric not in metrics.SELECTION:
            raise UsageError(
                f"unknown --metric {self.metric!r}; choose from {', '.join(metrics.SELECTION)}"
            )
        if self.calibration not in CALIBRATION:
            raise UsageError(
                f"unknown --calibration {self.calibration!r}; choose from {', '.join(CALIBRATION)}"
            )
        if self.trials is not None and self.trials < 1:
            raise UsageError("--trials must be at least 1")
        if not (self.budget > 0 and math.isfinite(self.budget)):
            raise UsageError("--budget must be a positive number of seconds")
        if self.jobs == 0 or self.jobs < -1:
            raise UsageError("--jobs must be a positive number of threads, or -1 for all cores")
        if self.max_us_per_row is not None and self.max_us_per_row < 0:
            raise UsageError("--max-us-per-row must be a positive number of microseconds, or 0")
        if self.workers < 1:
            raise UsageError("--workers must be a positive number of threads")
        if self.first_rung < 10 * self.folds or self.sample_above < self.first_rung:
            raise UsageError("first_rung must be at least 10 rows per fold and <= sample_above")
        if (self.storage is None) != (self.study is None):
            raise UsageError("--storage and --study go together")
        if self.folds < 2:
            raise UsageError("--folds must be at least 2")
        if not 0.05 <= self.test_size <= 0.5:
            raise UsageError("--test-size must be between 0.05 and 0.5")


def _known(names: list[str], known: list[str], kind: str) -> None:
    if not names:
        raise UsageError(f"no {kind} to search; choose from {', '.join(known)}")
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"unknown {kind} {unknown[0]!r}; choose from {', '.join(known)}")
