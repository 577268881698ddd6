"""Leak-free search over learners x imbalance strategies.

1. Stratified 80/20 split; the test part is not touched until step 5.
2. For each candidate, stratified k-fold CV on the train part. Preprocessing,
   resampling and the learner are one imbalanced-learn pipeline, so a
   resampler only ever sees training folds.
3. The candidate's threshold is tuned on its pooled out-of-fold predictions;
   fold metrics are reported at that threshold.
4. The best candidate by the CV metric is refit on the whole train part,
   calibrated (Platt, on its out-of-fold scores) when it resamples or
   reweights, and its threshold re-tuned on the calibrated scores.
5. The winner is scored once on the test part.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from imblearn.pipeline import Pipeline
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from lambda_fn.schema import CATEGORICAL, Feature, Schema
from train import evaluate
from train.data import Dataset, UsageError
from train.features import ColumnSums
from train.models import LEARNERS, PARAM, SAMPLE_WEIGHT, UNSUPPORTED
from train.samplers import CLASS_WEIGHT, K_NEIGHBORS, NONE, RESAMPLERS, build_sampler


@dataclass
class SearchConfig:
    learners: list[str]
    strategies: list[str]
    folds: int = 5
    seed: int = 42
    test_size: float = 0.2
    metric: str = "pr_auc"
    objective: evaluate.ThresholdObjective = field(
        default_factory=lambda: evaluate.ThresholdObjective("f1")
    )
    calibration: str = "auto"  # auto | on | off
    sums: tuple[tuple[str, tuple[str, ...]], ...] = ()  # derived features (train.features)


@dataclass
class TrainedModel:
    """The selected pipeline with its calibration and decision threshold.

    `predict_proba` is the reference that export's ONNX graph must match.
    """

    pipeline: Pipeline
    learner: str
    strategy: str
    threshold: float
    calibration: evaluate.PlattCalibration | None
    schema: Schema

    def inference_steps(self) -> list[tuple[str, object]]:
        """The steps that act at prediction time (resamplers only act in fit)."""
        return [(n, s) for n, s in self.pipeline.steps if n != "sampler"]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = self.pipeline.predict_proba(X[self.schema.names])[:, 1]
        if self.calibration is not None:
            p = self.calibration.apply(p)
        return p

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X) >= self.threshold).astype(np.int64)


@dataclass
class CandidateResult:
    learner: str
    strategy: str
    threshold: float = float("nan")
    folds: list[dict] = field(default_factory=list)
    oof: np.ndarray | None = None
    fit_seconds: float = 0.0
    error: str | None = None

    def mean(self, metric: str) -> float:
        if not self.folds:
            return float("nan")
        return float(np.mean([f[metric] for f in self.folds]))

    def std(self, metric: str) -> float:
        if not self.folds:
            return float("nan")
        return float(np.std([f[metric] for f in self.folds]))


@dataclass
class SearchResult:
    model: TrainedModel
    candidates: list[CandidateResult]
    winner: CandidateResult
    test_metrics: dict
    calibration_report: dict
    X_test: pd.DataFrame
    y_test: np.ndarray
    n_train: int
    X_train: pd.DataFrame | None = None
    y_train: np.ndarray | None = None
    ratio: float = 1.0


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


def build_pipeline(schema: Schema, learner: str, strategy: str, seed: int, ratio: float, sums=()):
    spec = LEARNERS[learner]
    numeric = schema.numeric + [name for name, _ in sums]
    numeric_steps = [("impute", SimpleImputer(strategy="median"))]
    if spec.scaled:
        numeric_steps.append(("scale", StandardScaler()))
    transformers = []
    if numeric:
        transformers.append(("num", Pipeline(numeric_steps), numeric))
    cat_features: list[Feature] = [f for f in schema.features if f.kind == CATEGORICAL]
    if cat_features:
        transformers.append(
            (
                "cat",
                OneHotEncoder(
                    categories=[list(f.categories) for f in cat_features],
                    handle_unknown="ignore",
                    sparse_output=False,
                    dtype=np.float64,
                ),
                [f.name for f in cat_features],
            )
        )
    # Dense output: XGBoost would read a sparse matrix's zeros as missing values.
    prep = ColumnTransformer(transformers, sparse_threshold=0.0, remainder="drop")
    steps: list[tuple[str, object]] = [("prep", prep)]
    if sums:
        steps.insert(0, ("derive", ColumnSums(tuple(sums))))
    sampler = build_sampler(strategy, len(numeric), [len(f.categories) for f in cat_features], seed)
    if sampler is not None:
        steps.append(("sampler", sampler))
    weighted = strategy == CLASS_WEIGHT and spec.weighting == PARAM
    steps.append(("model", spec.build(seed, weighted, ratio)))
    return Pipeline(steps)


def fit_params(learner: str, strategy: str, y: np.ndarray) -> dict:
    if strategy == CLASS_WEIGHT and LEARNERS[learner].weighting == SAMPLE_WEIGHT:
        return {"model__sample_weight": compute_sample_weight("balanced", y)}
    return {}


def check_enough_positives(y_train: np.ndarray, config: SearchConfig) -> None:
    pos = int(y_train.sum())
    neg = len(y_train) - pos
    minority = min(pos, neg)
    if minority < config.folds:
        raise UsageError(
            f"the training split has {minority} row(s) of the minority class, fewer than the "
            f"{config.folds} CV folds need; add data or lower --folds"
        )
    per_fold = minority - int(np.ceil(minority / config.folds))
    needs_neighbours = [s for s in config.strategies if s in RESAMPLERS - {"undersample"}]
    if needs_neighbours and per_fold <= K_NEIGHBORS:
        raise UsageError(
            f"strategy {needs_neighbours[0]} needs more than {K_NEIGHBORS} minority rows per "
            f"training fold, but a fold has about {per_fold}; drop that strategy or add data"
        )


def _fit_quietly(pipeline, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pipeline.fit(X, y, **params)


def _predict_quietly(pipeline, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pipeline.predict_proba(X)[:, 1]


def cross_validate(schema, X, y, learner, strategy, config, ratio, progress=None):
    result = CandidateResult(learner, strategy)
    cv = StratifiedKFold(n_splits=config.folds, shuffle=True, random_state=config.seed)
    oof = np.zeros(len(y), dtype=np.float64)
    fold_ids = np.zeros(len(y), dtype=int)
    started = time.perf_counter()
    try:
        for k, (fit_idx, val_idx) in enumerate(cv.split(X, y)):
            pipe = build_pipeline(schema, learner, strategy, config.seed, ratio, config.sums)
            y_fit = y[fit_idx]
            _fit_quietly(pipe, X.iloc[fit_idx], y_fit, **fit_params(learner, strategy, y_fit))
            oof[val_idx] = _predict_quietly(pipe, X.iloc[val_idx])
            fold_ids[val_idx] = k
            if progress is not None:
                progress.update(1)
    except Exception as exc:  # a candidate that cannot fit is reported, not fatal
        result.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return result
    result.fit_seconds = (time.perf_counter() - started) / config.folds
    result.oof = oof
    result.threshold = evaluate.choose_threshold(y, oof, config.objective)
    for k in range(config.folds):
        mask = fold_ids == k
        metrics = evaluate.ranking_metrics(y[mask], oof[mask])
        metrics.update(evaluate.threshold_metrics(y[mask], oof[mask], result.threshold))
        result.folds.append(metrics)
    return result


def select(candidates: list[CandidateResult], metric: str) -> CandidateResult:
    usable = [c for c in candidates if c.error is None]
    if not usable:
        reasons = "; ".join(f"{c.learner}/{c.strategy}: {c.error}" for c in candidates)
        raise UsageError(f"no candidate could be trained ({reasons})")
    sign = -1 if metric in evaluate.LOWER_IS_BETTER else 1
    return max(usable, key=lambda c: sign * c.mean(metric))


def run_search(dataset: Dataset, config: SearchConfig, progress_factory=None) -> SearchResult:
    X, y = dataset.X, dataset.y
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=config.test_size, stratify=y, random_state=config.seed
    )
    X_train = X_train.reset_index(drop=True)
    X_test = X_test.reset_index(drop=True)
    check_enough_positives(y_train, config)
    schema = train_schema(dataset.schema, X_train)
    ratio = float((y_train == 0).sum()) / max(int(y_train.sum()), 1)

    pairs = [
        (learner, strategy)
        for learner in config.learners
        for strategy in config.strategies
        if skipped_reason(learner, strategy) is None
    ]
    progress = progress_factory(len(pairs) * config.folds + 1) if progress_factory else None
    candidates = []
    for learner, strategy in pairs:
        if progress is not None:
            progress.set_description(f"{learner}/{strategy}")
        candidates.append(
            cross_validate(schema, X_train, y_train, learner, strategy, config, ratio, progress)
        )
    winner = select(candidates, config.metric)

    if progress is not None:
        progress.set_description(f"refit {winner.learner}/{winner.strategy}")
    pipeline = build_pipeline(
        schema, winner.learner, winner.strategy, config.seed, ratio, config.sums
    )
    _fit_quietly(pipeline, X_train, y_train, **fit_params(winner.learner, winner.strategy, y_train))
    if progress is not None:
        progress.update(1)
        progress.close()

    calibrate = config.calibration == "on" or (
        config.calibration == "auto" and winner.strategy != NONE
    )
    oof = winner.oof
    calibration = None
    calibration_report = {
        "applied": False,
        "method": None,
        "reason": "the winner neither resamples nor reweights (--calibration auto)",
        "oof_brier_before": evaluate.ranking_metrics(y_train, oof)["brier"],
    }
    threshold = winner.threshold
    if calibrate:
        calibration = evaluate.PlattCalibration.fit(y_train, oof)
        calibrated = calibration.apply(oof)
        threshold = evaluate.choose_threshold(y_train, calibrated, config.objective)
        calibration_report.update(
            applied=True,
            method="platt (sigmoid on the logit, fitted on out-of-fold predictions)",
            reason=(
                "--calibration on"
                if config.calibration == "on"
                else f"the winner uses {winner.strategy}, which distorts probabilities"
            ),
            slope=calibration.slope,
            intercept=calibration.intercept,
            oof_brier_after=evaluate.ranking_metrics(y_train, calibrated)["brier"],
        )
    model = TrainedModel(pipeline, winner.learner, winner.strategy, threshold, calibration, schema)

    raw_test = _predict_quietly(pipeline, X_test[schema.names])
    p_test = calibration.apply(raw_test) if calibration is not None else raw_test
    calibration_report["test_brier_uncalibrated"] = evaluate.ranking_metrics(y_test, raw_test)[
        "brier"
    ]
    calibration_report["test_brier"] = evaluate.ranking_metrics(y_test, p_test)["brier"]
    test_metrics = evaluate.ranking_metrics(y_test, p_test)
    test_metrics.update(evaluate.threshold_metrics(y_test, p_test, threshold))
    pred = (p_test >= threshold).astype(int)
    test_metrics["per_class"] = evaluate.per_class_table(
        y_test, pred, schema.negative_label, schema.positive_label
    )
    return SearchResult(
        model=model,
        candidates=candidates,
        winner=winner,
        test_metrics=test_metrics,
        calibration_report=calibration_report,
        X_test=X_test,
        y_test=y_test,
        n_train=len(y_train),
        X_train=X_train,
        y_train=y_train,
        ratio=ratio,
    )
