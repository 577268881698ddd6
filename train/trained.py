"""The pickled model types: what `python -m train` writes to model.joblib
and export reads. `TrainedModel.predict_proba` is the reference the ONNX graph
must match. Changing these classes incompatibly means bumping RUN_FORMAT in
train/artifacts.py."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from imblearn.pipeline import Pipeline

from contract.schema import Schema
from train.evaluate import PlattCalibration


def predict_quietly(pipeline, X) -> np.ndarray:
    """The positive-class probability, without the learners' warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pipeline.predict_proba(X)[:, 1]


@dataclass
class Member:
    """One model of an ensemble: its pipeline and weight (weights sum to 1)."""

    name: str
    learner: str
    strategy: str
    weight: float
    pipeline: Pipeline


class WeightedAverage:
    """The members' positive-class probabilities, averaged with their weights.

    Each member's probability is read as float32 (what its ONNX piece
    outputs) and the sum is taken in float64, as the graph does."""

    def __init__(self, members: list[Member]):
        self.members = members

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = np.zeros(len(X), dtype=np.float64)
        for m in self.members:
            part = predict_quietly(m.pipeline, X).astype(np.float32).astype(np.float64)
            p += m.weight * part
        p = np.clip(p, 0.0, 1.0).astype(np.float32).astype(np.float64)
        return np.column_stack([1.0 - p, p])


@dataclass
class TrainedModel:
    """The selected pipeline (or weighted ensemble of pipelines) with its
    calibration and decision threshold."""

    pipeline: Pipeline | WeightedAverage
    learner: str
    strategy: str
    threshold: float
    calibration: PlattCalibration | None
    schema: Schema
    members: list[Member] | None = None  # set for an ensemble

    def inference_steps(self) -> list[tuple[str, object]]:
        """The steps that act at prediction time (resamplers only act in fit)."""
        if self.members is not None:
            raise TypeError("an ensemble has no single pipeline; use .members")
        return [(n, s) for n, s in self.pipeline.steps if n != "sampler"]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = self.pipeline.predict_proba(X[self.schema.names])[:, 1]
        if self.calibration is not None:
            p = self.calibration.apply(p)
        return p

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X) >= self.threshold).astype(np.int64)
