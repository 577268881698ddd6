"""Building one candidate's pipeline and fitting it: quietly, with class
weights when its strategy asks for them, and for boosters with early stopping
on an inner validation part that a deadline or a cancelled trial cuts short."""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from imblearn.pipeline import Pipeline
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from contract.schema import CATEGORICAL, Feature, Schema
from train.encoding import categorical_blocks
from train.features import DerivedSpec
from train.models import LEARNERS, PARAM, SAMPLE_WEIGHT, UNSUPPORTED
from train.samplers import CLASS_WEIGHT, build_sampler

INNER_VALIDATION = 0.15  # share of a training fold held back for early stopping


class Stop(Exception):
    """A trial ended early: pruned, or out of budget."""


def skipped_reason(learner: str, strategy: str) -> str | None:
    if strategy == CLASS_WEIGHT and LEARNERS[learner].weighting == UNSUPPORTED:
        return f"{learner} cannot weight classes"
    return None


def train_schema(schema: Schema, X_train: pd.DataFrame) -> Schema:
    """The schema with the categories seen in the training split."""
    features = []
    for f in schema.features:
        if f.kind == CATEGORICAL:
            cats = tuple(sorted(X_train[f.name].astype(str).unique()))
            f = replace(f, categories=cats)
        features.append(f)
    return replace(schema, features=tuple(features))


def build_pipeline(
    schema: Schema,
    learner: str,
    strategy: str,
    seed: int,
    ratio: float,
    sums=(),
    params: dict | None = None,
    derived: DerivedSpec | None = None,
):
    """The pipeline for one candidate; `params=None` gives the learner's defaults,
    `derived` (or the plain `sums`) the derived features computed in front."""
    spec = LEARNERS[learner]
    if derived is None:
        derived = DerivedSpec(sums=tuple(sums))
    numeric = schema.numeric + derived.names
    numeric_steps = [("impute", SimpleImputer(strategy="median"))]
    if spec.scaled:
        numeric_steps.append(("scale", StandardScaler()))
    transformers = []
    if numeric:
        transformers.append(("num", Pipeline(numeric_steps), numeric))
    cat_features: list[Feature] = [f for f in schema.features if f.kind == CATEGORICAL]
    # train/encoding.py: one-hot (capped) or a lookup per column, width <= MAX_WIDTH.
    blocks, n_lookups, group_sizes = categorical_blocks(cat_features, len(numeric), seed)
    transformers += blocks
    # Dense output: XGBoost would read a sparse matrix's zeros as missing values.
    prep = ColumnTransformer(transformers, sparse_threshold=0.0, remainder="drop")
    steps: list[tuple[str, object]] = [("prep", prep)]
    if derived:
        steps.insert(0, ("derive", derived.transformer()))
    sampler = build_sampler(strategy, len(numeric) + n_lookups, group_sizes, seed)
    if sampler is not None:
        steps.append(("sampler", sampler))
    weighted = strategy == CLASS_WEIGHT and spec.weighting == PARAM
    steps.append(("model", spec.build(seed, weighted, ratio, params)))
    return Pipeline(steps)


def sample_weights(learner: str, strategy: str, y: np.ndarray) -> np.ndarray | None:
    """Balanced weights for a learner that takes class weights at fit time."""
    if strategy == CLASS_WEIGHT and LEARNERS[learner].weighting == SAMPLE_WEIGHT:
        return compute_sample_weight("balanced", y)
    return None


def fit_params(learner: str, strategy: str, y: np.ndarray) -> dict:
    weights = sample_weights(learner, strategy, y)
    return {} if weights is None else {"model__sample_weight": weights}


def fit_quietly(pipeline, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pipeline.fit(X, y, **params)


def threads(learner: str, jobs: int) -> dict:
    """The thread count for a learner that takes one (see train.models)."""
    return {"n_jobs": jobs} if LEARNERS[learner].threaded else {}


def eval_weights(y_train_seen: np.ndarray, weighted: bool, y_val: np.ndarray) -> np.ndarray:
    """Weights that give the inner validation part the class balance the booster
    trained on (after resampling, or 1:1 under class weights), so that the log
    loss it stops on measures what it is fitting, not the shift of the balance."""
    pos_v = max(int(y_val.sum()), 1)
    neg_v = max(len(y_val) - pos_v, 1)
    if weighted:
        odds = 1.0
    else:
        pos_t = max(int(y_train_seen.sum()), 1)
        odds = pos_t / max(len(y_train_seen) - pos_t, 1)
    positive = odds / (pos_v / neg_v)
    return np.where(y_val == 1, positive, 1.0)


@dataclass
class Cutoff:
    """When a fit should give up: the search's deadline, or its trial was
    pruned while this fold was still fitting on another thread."""

    deadline: float | None = None
    cancel: threading.Event | None = None

    def __bool__(self) -> bool:
        return self.deadline is not None or self.cancel is not None

    def reached(self) -> bool:
        return (self.deadline is not None and time.perf_counter() > self.deadline) or (
            self.cancel is not None and self.cancel.is_set()
        )


def fit_early_stopped(
    pipeline: Pipeline, X, y, learner: str, strategy: str, seed: int, deadline=None, cancel=None
) -> int:
    """Fit a booster pipeline, stopping on an inner validation part of (X, y).

    Preprocessing and the resampler are fitted on the rest only; the inner
    part is transformed, never resampled. Boosting also stops at `deadline`,
    or once the `cancel` event is set (the caller then drops the trial).
    Returns the rounds kept."""
    cut = Cutoff(deadline, cancel)
    split = StratifiedShuffleSplit(n_splits=1, test_size=INNER_VALIDATION, random_state=seed)
    fit_idx, val_idx = next(split.split(np.zeros(len(y)), y))
    X_fit, y_fit = X.iloc[fit_idx], y[fit_idx]
    steps = dict(pipeline.steps)
    transform = Pipeline([s for s in pipeline.steps[:-1] if s[0] != "sampler"])
    model = pipeline.steps[-1][1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Xt, yt = transform.fit_transform(X_fit, y_fit), y_fit
        if "sampler" in steps:
            Xt, yt = steps["sampler"].fit_resample(Xt, yt)
        Xv = transform.transform(X.iloc[val_idx])
        extra = {}
        weights = sample_weights(learner, strategy, yt)
        if weights is not None:
            extra["sample_weight"] = weights
        y_val = y[val_idx]
        w_val = eval_weights(yt, strategy == CLASS_WEIGHT, y_val)
        rounds = LEARNERS[learner].fit_early(
            model, Xt, yt, Xv, y_val, w_val, cut.reached if cut else None, **extra
        )
    if rounds is None:
        raise Stop("out of budget")  # cut short, perhaps before a best round was kept
    return rounds
