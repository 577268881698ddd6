"""Leak-free, time-budgeted search over learners x imbalance strategies x
hyperparameters x derived features.

1. Stratified split (80/20 by default); the test part is not touched until step 6.
2. Optuna (TPE, seeded) proposes trials: a learner, an imbalance strategy, the
   learner's hyperparameters and whether to use the derived features. The
   first trials are each pair's untuned defaults. Every trial is scored by
   stratified k-fold CV on the train part; preprocessing, resampling and the
   learner are one imbalanced-learn pipeline fitted per fold, so a resampler
   only ever sees training folds. Boosters stop early on an inner validation
   part of each training fold (never a CV validation fold, never the test
   split). A trial whose running fold score falls in the worst quarter of
   earlier trials is pruned; a learner x strategy pair that clearly loses to
   the best trial on the same folds gets no more trials. The search stops at
   `--budget` seconds, or after exactly `--trials` trials (reproducible: no
   clock involved).
3. A trial's threshold is tuned on its pooled out-of-fold predictions; fold
   metrics are reported at that threshold.
4. Greedy ensemble selection (Caruana, with replacement) over the best
   trials' out-of-fold predictions, itself cross-validated; the ensemble is
   kept only when it beats the best single trial on the same folds by more
   than one standard error of the difference. With prefer_fast, the cheapest
   candidate to serve that is as good as the best (by the same paired rule)
   wins.
5. The winner is refit on the whole train part (boosters with the rounds early
   stopping chose), calibrated (Platt, on its out-of-fold scores) when it
   resamples or reweights, and its threshold re-tuned on the calibrated scores.
6. The winner is scored once on the test part.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from imblearn.pipeline import Pipeline
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit, train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from contract.schema import CATEGORICAL, Feature, Schema
from train import evaluate, leaderboard
from train.column_kinds import date_columns
from train.data import Dataset, UsageError
from train.encoding import categorical_blocks
from train.encoding import choose as choose_encodings
from train.features import DerivedSpec, discover
from train.models import (
    EARLY_STOPPING_ROUNDS,
    LEARNERS,
    PARAM,
    SAMPLE_WEIGHT,
    UNSUPPORTED,
)
from train.samplers import CLASS_WEIGHT, K_NEIGHBORS, NONE, RESAMPLERS, build_sampler

INNER_VALIDATION = 0.15  # share of a training fold held back for early stopping
ENSEMBLE_POOL = 10  # best trials the ensemble may draw from
ENSEMBLE_ROUNDS = 25  # greedy additions (with replacement)
RAW, DERIVED = "raw", "derived"
# --prefer-fast keeps the best unless a candidate within one SE serves it at
# least this many times faster (a NaN cost for the best never counts as fast).
FAST_ENOUGH = 1.5
# ...and saves at least this much onnxruntime time per row. Less is lost in an
# API call's fixed cost (about 100 µs) and is a small share of the batch path's
# per-row time (parsing and writing the CSV included): not worth any score.
MIN_SAVING_US = 2.0
COST_ROWS = 1000  # training rows each candidate's serving cost is timed on
MAX_FAILURES = 3  # a learner that failed this often without ever fitting is dropped
# Optuna keeps trials in this top percentile at each fold: the worst quarter stops.
PRUNE_PERCENTILE = 75.0
# Racing: a learner x strategy pair gets no more trials once its best complete
# trial is behind the best trial by more than this many SEs of their per-fold
# difference, and by more than LOSING_OWN_SE of the best trial's own SE (so a
# negligible but consistent gap does not count).
LOSING_PAIRED_SE = 3.0
LOSING_OWN_SE = 2.0
MAX_REJECTIONS = 50  # proposals of losing pairs in a row before one is run anyway


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
    sums: tuple[tuple[str, tuple[str, ...]], ...] = ()  # the user's --sum features
    budget: float = 120.0  # seconds of search (ignored when trials is set)
    trials: int | None = None  # exactly this many trials: reproducible
    auto_features: bool = True  # let the search try discovered derived features
    ensemble: bool = True
    prefer_fast: bool = True
    measure_cost: bool = True  # ONNX size and onnxruntime time of each candidate
    # Candidates whose graph takes longer than this per row of a batch are not
    # picked while one within it is (None: no limit; see choose).
    max_us_per_row: float | None = None
    jobs: int = 1  # threads per fit of a threaded learner (boosters, random forest); -1 = all
    workers: int = 1  # CV folds fitted side by side, on threads


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
            part = _predict_quietly(m.pipeline, X).astype(np.float32).astype(np.float64)
            p += m.weight * part
        p = np.clip(p, 0.0, 1.0).astype(np.float32).astype(np.float64)
        return np.column_stack([1.0 - p, p])


@dataclass
class TrainedModel:
    """The selected pipeline (or weighted ensemble of pipelines) with its
    calibration and decision threshold.

    `predict_proba` is the reference that export's ONNX graph must match.
    """

    pipeline: Pipeline | WeightedAverage
    learner: str
    strategy: str
    threshold: float
    calibration: evaluate.PlattCalibration | None
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


@dataclass
class SearchResult:
    model: TrainedModel
    # Each pair's best trial, and the ensemble when it won (every candidate here
    # is a learner + strategy that build_pipeline knows, or the winner).
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
    trials: list[CandidateResult] = field(default_factory=list)  # every trial, in order
    ensemble: dict | None = None  # ensemble.json
    selection: dict = field(default_factory=dict)  # which candidate was picked and why
    derived: DerivedSpec = field(default_factory=DerivedSpec)  # discovered candidates
    search_seconds: float = 0.0
    ensemble_candidate: CandidateResult | None = None  # considered, won or not


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


def threads(learner: str, jobs: int) -> dict:
    """The thread count for a learner that takes one (see train.models)."""
    return {"n_jobs": jobs} if LEARNERS[learner].threaded else {}


def _eval_weights(y_train_seen: np.ndarray, weighted: bool, y_val: np.ndarray) -> np.ndarray:
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


def fit_early_stopped(
    pipeline: Pipeline, X, y, learner: str, strategy: str, seed: int, deadline=None, cancel=None
) -> int:
    """Fit a booster pipeline, stopping on an inner validation part of (X, y).

    Preprocessing and the resampler are fitted on the rest only; the inner
    part is transformed, never resampled. Boosting also stops at `deadline`,
    or once the `cancel` event is set (the caller then drops the trial).
    Returns the rounds kept."""
    cut = _Cutoff(deadline, cancel)
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
        if strategy == CLASS_WEIGHT and LEARNERS[learner].weighting == SAMPLE_WEIGHT:
            extra["sample_weight"] = compute_sample_weight("balanced", yt)
        y_val = y[val_idx]
        w_val = _eval_weights(yt, strategy == CLASS_WEIGHT, y_val)
        if learner == "lightgbm":
            import lightgbm

            callbacks = [lightgbm.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)]
            if cut:

                def stop_at_deadline(env):
                    if cut.reached():
                        raise lightgbm.callback.EarlyStopException(
                            env.iteration, env.evaluation_result_list
                        )

                callbacks.append(stop_at_deadline)
            model.fit(
                Xt,
                yt,
                eval_set=[(Xv, y_val)],
                eval_sample_weight=[w_val],
                callbacks=callbacks,
                **extra,
            )
            return int(model.best_iteration_ or model.n_estimators)
        if cut:
            model.set_params(callbacks=[_XGBDeadline(cut)])
        model.fit(
            Xt, yt, eval_set=[(Xv, y_val)], sample_weight_eval_set=[w_val], verbose=False, **extra
        )
        model.set_params(callbacks=None)
        if cut.reached():
            raise _Stop("out of budget")  # cut short, perhaps before a best round was kept
        return int(model.best_iteration) + 1


@dataclass
class _Cutoff:
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


def _XGBDeadline(cut: _Cutoff):
    from xgboost.callback import TrainingCallback

    class Deadline(TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):
            return cut.reached()

    return Deadline()


class _Stop(Exception):
    """A trial ended early: pruned by the median rule, or out of budget."""


def fold_scores(y, oof, fold_ids, folds: int, threshold: float) -> list[dict]:
    out = []
    for k in range(folds):
        mask = fold_ids == k
        metrics = evaluate.ranking_metrics(y[mask], oof[mask])
        metrics.update(evaluate.threshold_metrics(y[mask], oof[mask], threshold))
        out.append(metrics)
    return out


def _fold_metric(y, p, metric, objective) -> float:
    if metric in ("roc_auc", "pr_auc", "brier"):
        return evaluate.ranking_metrics(y, p)[metric]
    return evaluate.threshold_metrics(y, p, evaluate.choose_threshold(y, p, objective))[metric]


def cross_validate(
    schema,
    X,
    y,
    learner,
    strategy,
    config,
    ratio,
    progress=None,
    *,
    params=None,
    derived=None,
    splits=None,
    trial=None,
    deadline=None,
    pool: ThreadPoolExecutor | None = None,
):
    """CV one candidate. With an optuna `trial`, report the running fold score
    after each fold and stop when it is pruned or past `deadline`.

    With a thread `pool`, folds fit side by side (learners that allow it);
    their results are still taken in fold order, so pruning, and so the whole
    search, decides exactly as it does one fold at a time."""
    result = CandidateResult(learner, strategy, params=dict(params or {}))
    spec = LEARNERS[learner]
    if splits is None:
        cv = StratifiedKFold(n_splits=config.folds, shuffle=True, random_state=config.seed)
        splits = list(cv.split(X, y))
    oof = np.zeros(len(y), dtype=np.float64)
    fold_ids = np.full(len(y), -1, dtype=int)
    rounds = []
    running = []
    build_params = dict(params or {})
    if spec.early_stopping:
        build_params["early_stopping"] = True
    build_params.update(threads(learner, config.jobs))
    cancel = threading.Event()

    def fit_fold(fit_idx, val_idx):
        if cancel.is_set():
            raise _Stop("pruned")
        fit_started = time.perf_counter()
        pipe = build_pipeline(
            schema,
            learner,
            strategy,
            config.seed,
            ratio,
            config.sums,
            params=build_params,
            derived=derived,
        )
        y_fit = y[fit_idx]
        kept = None
        if spec.early_stopping:
            kept = fit_early_stopped(
                pipe, X.iloc[fit_idx], y_fit, learner, strategy, config.seed, deadline, cancel
            )
            if deadline is not None and time.perf_counter() > deadline:
                raise _Stop("out of budget")
        else:
            _fit_quietly(pipe, X.iloc[fit_idx], y_fit, **fit_params(learner, strategy, y_fit))
        predicted = _predict_quietly(pipe, X.iloc[val_idx])
        return pipe, kept, predicted, time.perf_counter() - fit_started

    if pool is not None and spec.parallel_folds:
        futures = [pool.submit(fit_fold, *split) for split in splits]
        outcomes = [future.result for future in futures]
    else:
        futures = []
        outcomes = [lambda split=split: fit_fold(*split) for split in splits]
    seconds = []
    try:
        for k, ((_, val_idx), outcome) in enumerate(zip(splits, outcomes, strict=True)):
            pipe, kept, predicted, fold_seconds = outcome()  # in fold order, whoever fits it
            seconds.append(fold_seconds)
            if kept is not None:
                rounds.append(kept)
            oof[val_idx] = predicted
            fold_ids[val_idx] = k
            if k == 0:
                result.sample_pipeline = pipe
            if progress is not None:
                progress.update(1)
            if trial is not None and k < len(splits) - 1:
                running.append(
                    _fold_metric(y[val_idx], oof[val_idx], config.metric, config.objective)
                )
                trial.report(float(np.mean(running)), k)
                if trial.should_prune():
                    raise _Stop("pruned")
                if deadline is not None and time.perf_counter() > deadline:
                    raise _Stop("out of budget")
    except _Stop as stop:
        result.state = "pruned"
        result.error = str(stop)
        result.sample_pipeline = None
        return result
    except Exception as exc:  # a candidate that cannot fit is reported, not fatal
        result.state = "failed"
        result.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        result.sample_pipeline = None
        return result
    finally:
        cancel.set()  # folds still queued or fitting for a stopped trial give up
        for future in futures:
            future.cancel()
    result.fit_seconds = float(np.mean(seconds))
    result.oof = oof
    result.rounds = int(round(np.mean(rounds))) if rounds else None
    result.threshold = evaluate.choose_threshold(y, oof, config.objective)
    result.folds = fold_scores(y, oof, fold_ids, len(splits), result.threshold)
    return result


def select(candidates: list[CandidateResult], metric: str) -> CandidateResult:
    usable = [c for c in candidates if c.error is None]
    if not usable:
        reasons = "; ".join(f"{c.learner}/{c.strategy}: {c.error}" for c in candidates)
        raise UsageError(f"no candidate could be trained ({reasons})")
    best = usable[0]
    for c in usable[1:]:
        if leaderboard.is_better(c.mean(metric), best.mean(metric), metric):
            best = c
    return best


# -- the search ---------------------------------------------------------------


def _pairs(config: SearchConfig) -> list[tuple[str, str]]:
    return [
        (learner, strategy)
        for strategy in config.strategies
        for learner in config.learners
        if skipped_reason(learner, strategy) is None
    ]


def _first_trials(config: SearchConfig) -> list[tuple[str, str]]:
    """Each learner's starting point, with the first strategy it can use; the
    sampler explores the other strategies (every pair is a trial away)."""
    out = []
    for learner in config.learners:
        usable = [s for s in config.strategies if skipped_reason(learner, s) is None]
        if usable:
            out.append((learner, usable[0]))
    return out


def _suggest(trial, config: SearchConfig, has_derived: bool, defaults: bool):
    learner = trial.suggest_categorical("learner", list(config.learners))
    strategies = [s for s in config.strategies if skipped_reason(learner, s) is None]
    strategy = trial.suggest_categorical(f"{learner}.strategy", strategies)
    features = trial.suggest_categorical("features", [DERIVED, RAW]) if has_derived else RAW
    space = LEARNERS[learner].space
    if defaults:
        params = dict(LEARNERS[learner].start or {})
    else:
        params = {} if space is None else space(trial)
    return learner, strategy, features, params


class _Progress:
    """tqdm over trials (with --trials) or seconds (with --budget): trials run,
    best score so far, time left."""

    def __init__(self, factory, config: SearchConfig, started: float):
        self.config, self.started = config, started
        total = config.trials if config.trials is not None else int(math.ceil(config.budget))
        self.bar = factory(total) if factory else None
        self.done = 0

    def trial_done(self, n: int, best: float) -> None:
        if self.bar is None:
            return
        elapsed = time.perf_counter() - self.started
        if self.config.trials is not None:
            self.bar.update(1)
        else:
            target = min(int(elapsed), self.bar.total)
            self.bar.update(max(0, target - self.done))
            self.done = max(self.done, target)
        left = max(0.0, self.config.budget - elapsed) if self.config.trials is None else None
        postfix = {"trials": n, "best": f"{best:.4f}" if not math.isnan(best) else "-"}
        if left is not None:
            postfix["left"] = f"{left:.0f}s"
        self.bar.set_postfix(postfix)

    def describe(self, text: str) -> None:
        if self.bar is not None:
            self.bar.set_description(text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_trials(schema, X, y, config: SearchConfig, ratio, derived_auto: DerivedSpec, progress):
    """The Optuna loop (ask/tell). Returns every trial's CandidateResult."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    logging.getLogger("optuna").setLevel(logging.WARNING)
    user = DerivedSpec(sums=tuple(config.sums))
    specs = {RAW: user, DERIVED: user.merged(derived_auto)}
    has_derived = bool(derived_auto)
    pairs = _first_trials(config)
    direction = "maximize" if leaderboard.higher_is_better(config.metric) else "minimize"
    study = optuna.create_study(
        direction=direction,
        sampler=optuna.samplers.TPESampler(
            seed=config.seed,
            multivariate=True,
            group=True,
            n_startup_trials=len(pairs) + 5,
        ),
        # Every trial sees the same folds in the same order, so comparing running
        # scores at the same fold is fair; only the worst quarter is cut, since
        # one fold's score is noisy.
        pruner=optuna.pruners.PercentilePruner(
            PRUNE_PERCENTILE, n_startup_trials=len(pairs) + 2, n_warmup_steps=0
        ),
    )
    for learner, strategy in pairs:
        fixed = {"learner": learner, f"{learner}.strategy": strategy}
        if has_derived:
            fixed["features"] = DERIVED
        study.enqueue_trial(fixed)
    cv = StratifiedKFold(n_splits=config.folds, shuffle=True, random_state=config.seed)
    splits = list(cv.split(X, y))
    started = time.perf_counter()
    deadline = None if config.trials is not None else started + config.budget
    results: list[CandidateResult] = []
    best = float("nan")
    failures: dict[str, int] = {}
    banned: set[str] = set()  # learners that failed MAX_FAILURES times and never fitted
    losing: set[tuple[str, str]] = set()  # pairs that clearly lose (see losing_pairs)
    rejected = 0
    pool = ThreadPoolExecutor(config.workers) if config.workers > 1 else None
    try:
        with warnings.catch_warnings():
            # One filter for every fold thread: catch_warnings inside threads
            # races on the process-wide filter list.
            warnings.simplefilter("ignore")
            while len(banned) < len(config.learners):
                n = len(results)
                if config.trials is not None and n >= config.trials:
                    break
                if (
                    deadline is not None
                    and time.perf_counter() >= deadline
                    and any(r.state == "complete" for r in results)
                ):
                    break
                trial = study.ask()
                learner, strategy, features, params = _suggest(
                    trial, config, has_derived, defaults=n < len(pairs)
                )
                # Not run, not counted. Told as pruned, not failed: TPE ranks a pruned
                # trial with no score below every scored one and so learns to avoid the
                # region, where it ignores failed trials and would propose it again and
                # again (thousands of times in a toy study, against 8).
                if learner in banned:
                    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                    continue
                if (learner, strategy) in losing and rejected < MAX_REJECTIONS:
                    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                    rejected += 1
                    continue
                rejected = 0
                progress.describe(f"trial {n} {learner}/{strategy}")
                may_stop = deadline if any(r.state == "complete" for r in results) else None
                result = cross_validate(
                    schema,
                    X,
                    y,
                    learner,
                    strategy,
                    config,
                    ratio,
                    params=params,
                    derived=specs[features],
                    splits=splits,
                    trial=trial,
                    deadline=may_stop,
                    pool=pool,
                )
                result.trial = trial.number
                result.features = features
                result.elapsed_seconds = time.perf_counter() - started
                score = result.mean(config.metric)
                if result.state == "complete":
                    study.tell(trial, score)
                    if leaderboard.is_better(score, best, config.metric):
                        best = score
                elif result.state == "pruned":
                    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                else:
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                    failures[learner] = failures.get(learner, 0) + 1
                    fitted = any(r.learner == learner and r.state != "failed" for r in results)
                    if failures[learner] >= MAX_FAILURES and not fitted:
                        banned.add(learner)
                results.append(result)
                losing = losing_pairs(results, config.metric)
                _drop_unneeded_pipelines(results, config.metric)
                progress.trial_done(len(results), best)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return results, time.perf_counter() - started


def losing_pairs(results, metric) -> set[tuple[str, str]]:
    """Learner x strategy pairs whose best complete trial clearly loses to the
    best trial on the same folds: further trials of theirs would spend the
    budget where it cannot pay (a resampler that costs more than it gives, a
    learner that cannot fit this data as well)."""
    ranked = _ranked(results, metric)
    if not ranked:
        return set()
    best = ranked[0]
    best_folds = best.fold_values(metric)
    margin = LOSING_OWN_SE * best.se(metric)
    out = set()
    for r in _pair_bests(results, metric):
        if r is best or r.state != "complete":
            continue
        gain, se = leaderboard.paired_difference(best_folds, r.fold_values(metric), metric)
        if gain > max(LOSING_PAIRED_SE * se, margin):
            out.add((r.learner, r.strategy))
    return out


def _drop_unneeded_pipelines(results, metric) -> None:
    """Keep fold-0 pipelines only for candidates that may be costed or ensembled."""
    keep = {id(c) for c in _pair_bests(results, metric)}
    keep |= {id(c) for c in _pool(results, metric)}
    for r in results:
        if id(r) not in keep:
            r.sample_pipeline = None


def _complete(results):
    return [r for r in results if r.state == "complete"]


def _ranked(results, metric):
    ok = _complete(results)
    s = leaderboard.sign(metric)
    return sorted(ok, key=lambda r: (-s * r.mean(metric), r.trial or 0))


def _pool(results, metric):
    """The trials the ensemble may draw from: the best of each learner x
    strategy x features group first, best first, then the next best trials.
    A pool of the top trials alone holds near-copies of one model, which err
    together (telecom: ten XGBoost variants; weights chosen without each fold
    then lost 0.004 PR AUC against the best), and blending gains from models
    that err differently."""
    ranked = _ranked(results, metric)
    groups: dict[tuple[str, str, str], CandidateResult] = {}
    for r in ranked:
        groups.setdefault((r.learner, r.strategy, r.features), r)
    diverse = list(groups.values())
    seen = {id(r) for r in diverse}
    return (diverse + [r for r in ranked if id(r) not in seen])[:ENSEMBLE_POOL]


def _pair_bests(results, metric) -> list[CandidateResult]:
    """Each (learner, strategy) pair's best complete trial; pairs with none
    show their last failure (pairs only ever pruned are in trials.csv)."""
    out: dict[tuple[str, str], CandidateResult] = {}
    for r in _ranked(results, metric):
        out.setdefault((r.learner, r.strategy), r)
    for r in results:
        if r.state == "failed" and (r.learner, r.strategy) not in out:
            out[(r.learner, r.strategy)] = r
    return list(out.values())


# -- ensemble -------------------------------------------------------------------


def _fold_ids(y, config) -> np.ndarray:
    cv = StratifiedKFold(n_splits=config.folds, shuffle=True, random_state=config.seed)
    ids = np.zeros(len(y), dtype=int)
    for k, (_, val_idx) in enumerate(cv.split(np.zeros(len(y)), y)):
        ids[val_idx] = k
    return ids


def _ranking_score(y, p, metric) -> float:
    """ROC or PR AUC from one sort (scikit-learn's values, ties included): the
    ensemble search scores thousands of blends, and its input checks dominate."""
    order = np.argsort(-p, kind="mergesort")
    ys, ps = y[order], p[order]
    last = np.r_[ps[1:] != ps[:-1], True]
    tp = np.cumsum(ys)[last].astype(float)
    fp = np.cumsum(1 - ys)[last].astype(float)
    P, N = tp[-1], fp[-1]
    if metric == "pr_auc":
        return float(np.sum(np.diff(np.r_[0.0, tp]) / P * tp / (tp + fp)))
    tp0, fp0 = np.r_[0.0, tp[:-1]], np.r_[0.0, fp[:-1]]
    return float(np.sum((fp - fp0) * (tp + tp0)) / (2 * P * N))


def _blend_metric(y, p, metric, objective) -> float:
    if metric in ("roc_auc", "pr_auc") and 0 < y.sum() < len(y):
        return _ranking_score(y, p, metric)
    return _fold_metric(y, p, metric, objective)


def _fold_values(y, oof, fold_ids, config, folds=None) -> list[float]:
    folds = range(config.folds) if folds is None else folds
    return [
        _blend_metric(y[fold_ids == k], oof[fold_ids == k], config.metric, config.objective)
        for k in folds
    ]


def _cv_score(y, oof, fold_ids, config) -> float:
    return float(np.mean(_fold_values(y, oof, fold_ids, config)))


def _greedy(y, oofs: np.ndarray, fold_ids, config, folds) -> np.ndarray | None:
    """Caruana's greedy forward selection with replacement, scored on `folds`
    only: the member counts of the best round."""
    s = leaderboard.sign(config.metric)
    counts = np.zeros(len(oofs), dtype=int)
    total = np.zeros(oofs.shape[1])
    best_counts, best_score = None, -np.inf
    for step in range(ENSEMBLE_ROUNDS):
        scores = [
            s * np.mean(_fold_values(y, (total + o) / (step + 1), fold_ids, config, folds))
            for o in oofs
        ]
        j = int(np.argmax(scores))
        counts[j] += 1
        total += oofs[j]
        if scores[j] > best_score + 1e-12:
            best_score, best_counts = scores[j], counts.copy()
    return best_counts


def caruana(y, results, config) -> CandidateResult | None:
    """Greedy ensemble selection with replacement over the best trials' OOF
    predictions (Caruana et al., 2004); None when it picks a single model.

    The weights are chosen on all folds. Because choosing them on the very
    predictions that score them flatters the blend, the selection is also
    cross-validated: for each fold k, weights chosen on the other folds score
    fold k. Those scores (`nested` on the candidate) are what decide whether
    the ensemble beats the single best model."""
    pool = _pool(results, config.metric)
    if len(pool) < 2:
        return None
    ids = _fold_ids(y, config)
    oofs = np.vstack([r.oof for r in pool])
    best_counts = _greedy(y, oofs, ids, config, range(config.folds))
    if best_counts is None or (best_counts > 0).sum() < 2:
        return None
    weights = best_counts / best_counts.sum()
    members = [(pool[j], float(weights[j])) for j in range(len(pool)) if best_counts[j] > 0]
    oof = sum(w * m.oof for m, w in members)
    strategies = sorted({m.strategy for m, _ in members})
    ens = CandidateResult("ensemble", "+".join(strategies), members=members)
    ens.oof = oof
    ens.threshold = evaluate.choose_threshold(y, oof, config.objective)
    ens.folds = fold_scores(y, oof, ids, config.folds, ens.threshold)
    ens.fit_seconds = sum(m.fit_seconds for m, _ in members)
    nested = []
    for k in range(config.folds):
        others = [f for f in range(config.folds) if f != k]
        counts = _greedy(y, oofs, ids, config, others)
        blend = (counts / counts.sum()) @ oofs
        nested.append(_fold_values(y, blend, ids, config, [k])[0])
    ens.nested = nested
    return ens


def ensemble_wins(ens: CandidateResult | None, single: CandidateResult, metric: str) -> bool:
    """The ensemble is kept when its cross-validated selection beats the single
    best trial on the same folds by more than one SE of their difference."""
    if ens is None or ens.nested is None:
        return False
    return leaderboard.clearly_better_paired(ens.nested, single.fold_values(metric), metric)


def ensemble_document(ens: CandidateResult | None, single: CandidateResult, chosen: bool, metric):
    doc = {
        "chosen": chosen,
        "cv_score": ens.mean(metric) if ens is not None else None,  # None: no ensemble formed
        "single_best_cv_score": single.mean(metric),
        "single_best_se": single.se(metric),
        "metric": metric,
        "members": [],
    }
    if ens is not None:
        gain, se = leaderboard.paired_difference(ens.nested, single.fold_values(metric), metric)
        doc["nested_cv_score"] = float(np.mean(ens.nested))  # weights chosen without the fold
        doc["gain_over_single"] = gain
        doc["gain_se"] = se
        doc["members"] = [
            {"name": m.name, "learner": m.learner, "sampler": m.strategy, "weight": w}
            for m, w in ens.members
        ]
    return doc


# -- serving cost and selection ---------------------------------------------------


def _measure(candidates, schema, X_sample, progress) -> None:
    """Each candidate's ONNX size and onnxruntime µs/row (fold-0 models stand
    in for the refit: same learner, parameters and roughly the same size)."""
    from export.cost import measure

    for c in candidates:
        if c.error is not None:
            continue
        progress.describe(f"serving cost {c.name}")
        if c.members is not None:
            pipes = [(m.sample_pipeline, w, m) for m, w in c.members]
            if any(p is None for p, _, _ in pipes):
                continue
            members = [Member(m.name, m.learner, m.strategy, w, p) for p, w, m in pipes]
            model = TrainedModel(
                WeightedAverage(members), "ensemble", c.strategy, 0.5, None, schema, members
            )
        else:
            if c.sample_pipeline is None:
                continue
            model = TrainedModel(c.sample_pipeline, c.learner, c.strategy, 0.5, None, schema)
        try:
            c.onnx_bytes, c.us_per_row, c.us_per_record = measure(model, X_sample)
        except Exception as exc:  # no converter: the candidate cannot be served
            logging.getLogger(__name__).warning("cannot measure %s: %s", c.name, exc)


def choose(board, single_best, ens, ens_chosen, config) -> tuple[CandidateResult, dict]:
    """The winner: the best (the ensemble only when clearly better), or with
    prefer_fast the cheapest to serve that is as good as it: behind it, on the
    same folds, by no more than one standard error of their difference.

    A candidate slower than `max_us_per_row` is passed over while another is
    within it: the API's latency and the S3 path's throughput are promises,
    which a few thousandths of CV score do not buy. The batch figure is the
    one held against the limit: a best-of over 1,000 rows is steady from run
    to run, where one record's call time moved by half between two runs."""
    metric = config.metric
    limit = config.max_us_per_row

    def affordable(c) -> bool:
        return limit is None or math.isnan(c.us_per_row) or c.us_per_row <= limit

    over = [c.name for c in board if c.error is None and not affordable(c)]
    passed_over = None
    if ens_chosen and not affordable(ens):
        ens_chosen, passed_over = False, ens
    top = ens if ens_chosen else single_best
    if not affordable(top):
        within = [c for c in board if c.members is None and c.folds and affordable(c)]
        if within:
            passed_over, top = passed_over or top, select(within, metric)
    # The ensemble's honest per-fold scores are those of its cross-validated selection.
    top_folds = ens.nested if ens_chosen else top.fold_values(metric)
    top_score, top_se = float(np.mean(top_folds)), top.se(metric)

    def close(c) -> bool:
        if c is top:
            return True
        folds = c.nested if c.members is not None else c.fold_values(metric)
        return leaderboard.within_noise_paired(folds, top_folds, metric)

    eligible = [
        c
        for c in board
        if c.error is None
        and (c.members is None or ens_chosen)
        and c.folds
        and affordable(c)
        and close(c)
    ]
    info = {
        "prefer_fast": config.prefer_fast,
        "max_us_per_row": limit,
        "over_limit": over,
        "best": top.name,
        "best_cv_score": top_score,
        "best_cv_se": top_se,
        "within_one_se": [c.name for c in eligible],
    }
    winner = top
    costed = [c for c in eligible if not math.isnan(c.us_per_row)]
    limit_note = (
        f"; {passed_over.name} scored better but takes {passed_over.us_per_row:.1f} µs per "
        f"row, over the {limit:g} µs/row limit (--max-us-per-row)"
        if passed_over is not None
        else ""
    )
    if config.prefer_fast and costed:
        fastest = min(
            costed, key=lambda c: (c.us_per_row, -leaderboard.sign(metric) * c.mean(metric))
        )
        # Timings of a few µs are noisy: trade score for speed only for a real saving.
        if (
            fastest is not top
            and not (top.us_per_row <= fastest.us_per_row * FAST_ENOUGH)
            and not (top.us_per_row - fastest.us_per_row < MIN_SAVING_US)
        ):
            winner = fastest
    info["picked"] = winner.name
    if passed_over is not None:
        info["passed_over"] = passed_over.name
    if winner is top:
        info["reason"] = (
            f"best cross-validated {metric}"
            + (
                " (the ensemble, selected without each fold, beats the best single model "
                "on the same folds by more than one SE of the difference)"
                if ens_chosen
                else ""
            )
            + (
                f"; no candidate as good on the same folds serves it {FAST_ENOUGH:g}x faster "
                f"and {MIN_SAVING_US:g} µs/row sooner"
                if config.prefer_fast and costed
                else ""
            )
            + limit_note
        )
    else:
        gain, se = leaderboard.paired_difference(top_folds, winner.fold_values(metric), metric)
        info["reason"] = (
            f"--prefer-fast: {winner.name} ({metric} {winner.mean(metric):.4f}, "
            f"{winner.us_per_row:.2f} µs/row) is behind the best, {top.name} "
            f"({top_score:.4f}, {top.us_per_row:.2f} µs/row), by {gain:.4f} on the same folds, "
            f"within one SE of that difference ({se:.4f}), and the cheapest to serve "
            f"(by {FAST_ENOUGH:g}x and {MIN_SAVING_US:g} µs/row or more)" + limit_note
        )
    return winner, info


# -- refit ----------------------------------------------------------------------------


def refit(c: CandidateResult, schema, X, y, config, ratio, derived_auto) -> Pipeline:
    spec = LEARNERS[c.learner]
    params = dict(c.params)
    if spec.early_stopping and c.rounds:
        params["n_estimators"] = c.rounds
    params.update(threads(c.learner, config.jobs))
    user = DerivedSpec(sums=tuple(config.sums))
    derived = user.merged(derived_auto) if c.features == DERIVED else user
    pipe = build_pipeline(
        schema,
        c.learner,
        c.strategy,
        config.seed,
        ratio,
        config.sums,
        params=params or None,
        derived=derived,
    )
    _fit_quietly(pipe, X, y, **fit_params(c.learner, c.strategy, y))
    return pipe


def run_search(dataset: Dataset, config: SearchConfig, progress_factory=None) -> SearchResult:
    X, y = dataset.X, dataset.y
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=config.test_size, stratify=y, random_state=config.seed
    )
    X_train = X_train.reset_index(drop=True)
    X_test = X_test.reset_index(drop=True)
    check_enough_positives(y_train, config)
    schema = train_schema(dataset.schema, X_train)
    schema = choose_encodings(schema, X_train, y_train, config.folds, config.seed)
    ratio = float((y_train == 0).sum()) / max(int(y_train.sum()), 1)
    taken = schema.names + [n for n, _ in config.sums]
    derived_auto = (
        discover(X_train, y_train, schema.numeric, taken, schema.categorical, date_columns(schema))
        if config.auto_features
        else DerivedSpec()
    )

    started = time.perf_counter()
    progress = _Progress(progress_factory, config, started)
    trials, search_seconds = run_trials(
        schema, X_train, y_train, config, ratio, derived_auto, progress
    )
    board = _pair_bests(trials, config.metric)
    single_best = select(board, config.metric)
    ens = caruana(y_train, trials, config) if config.ensemble else None
    ens_chosen = ensemble_wins(ens, single_best, config.metric)
    costed = board + ([ens] if ens is not None else [])
    if config.measure_cost:
        sample = X_train.sample(min(len(X_train), COST_ROWS), random_state=config.seed)
        _measure(costed, schema, sample, progress)
    winner, selection = choose(costed, single_best, ens, ens_chosen, config)
    if winner is ens:
        board = costed

    if winner.members is not None:
        progress.describe(f"refit {len(winner.members)} members")
        side_by_side = config.workers > 1 and all(
            LEARNERS[m.learner].parallel_folds for m, _ in winner.members
        )
        with (
            ThreadPoolExecutor(config.workers if side_by_side else 1) as pool,
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")  # once for every thread (see run_trials)
            pipes = list(
                pool.map(
                    lambda m: refit(m, schema, X_train, y_train, config, ratio, derived_auto),
                    [m for m, _ in winner.members],
                )
            )
        members = [
            Member(m.name, m.learner, m.strategy, w, pipe)
            for (m, w), pipe in zip(winner.members, pipes, strict=True)
        ]
        pipeline: Pipeline | WeightedAverage = WeightedAverage(members)
    else:
        progress.describe(f"refit {winner.name}")
        members = None
        pipeline = refit(winner, schema, X_train, y_train, config, ratio, derived_auto)
    progress.close()

    strategies = {m.strategy for m, _ in winner.members} if winner.members else {winner.strategy}
    calibrate = config.calibration == "on" or (
        config.calibration == "auto" and strategies != {NONE}
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
                else f"the winner uses {'+'.join(sorted(strategies))}, which distorts probabilities"
            ),
            slope=calibration.slope,
            intercept=calibration.intercept,
            oof_brier_after=evaluate.ranking_metrics(y_train, calibrated)["brier"],
        )
    model = TrainedModel(
        pipeline, winner.learner, winner.strategy, threshold, calibration, schema, members
    )

    raw_test = pipeline.predict_proba(X_test[schema.names])[:, 1]
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
    for c in trials:
        c.sample_pipeline = None
    return SearchResult(
        model=model,
        candidates=board,
        winner=winner,
        test_metrics=test_metrics,
        calibration_report=calibration_report,
        X_test=X_test,
        y_test=y_test,
        n_train=len(y_train),
        X_train=X_train,
        y_train=y_train,
        ratio=ratio,
        trials=trials,
        ensemble=ensemble_document(ens, single_best, winner is ens, config.metric),
        selection=selection,
        derived=derived_auto,
        search_seconds=search_seconds,
        ensemble_candidate=ens,
    )


def trial_rows(result: SearchResult, metric: str) -> list[dict]:
    """trials.csv: the search trajectory, one row per trial."""
    rows, best = [], float("nan")
    for c in result.trials:
        score = c.mean(metric)
        if c.state == "complete" and leaderboard.is_better(score, best, metric):
            best = score
        params = dict(c.params)
        params["features"] = c.features
        if c.rounds is not None:
            params["rounds"] = c.rounds
        rows.append(
            {
                "trial": c.trial,
                "elapsed_seconds": round(c.elapsed_seconds, 3),
                "learner": c.learner,
                "sampler": c.strategy,
                "score": score,
                "best_so_far": best,
                "state": c.state,
                "params": json.dumps(params, sort_keys=True, default=float),
            }
        )
    return rows
