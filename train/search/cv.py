"""Stratified k-fold cross-validation of one candidate.

Preprocessing, resampling and the learner are one pipeline fitted per fold,
so a resampler only ever sees training folds. A trial's threshold is tuned on
its pooled out-of-fold predictions, and fold metrics are reported at it."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedKFold

from train import evaluate, metrics
from train.data import UsageError
from train.models import LEARNERS
from train.samplers import K_NEIGHBORS, RESAMPLERS, UNDERSAMPLE
from train.search.candidate import CandidateResult
from train.search.fitting import (
    Stop,
    build_pipeline,
    fit_early_stopped,
    fit_params,
    fit_quietly,
    threads,
)
from train.trained import predict_quietly


def cv_splits(X, y, config) -> list:
    """The folds every trial sees, in the same order."""
    cv = StratifiedKFold(n_splits=config.folds, shuffle=True, random_state=config.seed)
    return list(cv.split(X, y))


def fold_ids(y, config) -> np.ndarray:
    """Each row's CV fold, as `cv_splits` assigns them."""
    ids = np.zeros(len(y), dtype=int)
    for k, (_, val_idx) in enumerate(cv_splits(np.zeros(len(y)), y, config)):
        ids[val_idx] = k
    return ids


def check_enough_positives(y_train: np.ndarray, config) -> None:
    pos = int(y_train.sum())
    neg = len(y_train) - pos
    minority = min(pos, neg)
    if minority < config.folds:
        raise UsageError(
            f"the training split has {minority} row(s) of the minority class, fewer than the "
            f"{config.folds} CV folds need; add data or lower --folds"
        )
    per_fold = minority - int(np.ceil(minority / config.folds))
    needs_neighbours = [s for s in config.strategies if s in RESAMPLERS - {UNDERSAMPLE}]
    if needs_neighbours and per_fold <= K_NEIGHBORS:
        raise UsageError(
            f"strategy {needs_neighbours[0]} needs more than {K_NEIGHBORS} minority rows per "
            f"training fold, but a fold has about {per_fold}; drop that strategy or add data"
        )


def fold_scores(y, oof, fold_ids, folds: int, threshold: float) -> list[dict]:
    out = []
    for k in range(folds):
        mask = fold_ids == k
        scores = evaluate.ranking_metrics(y[mask], oof[mask])
        scores.update(evaluate.threshold_metrics(y[mask], oof[mask], threshold))
        out.append(scores)
    return out


def fold_metric(y, p, metric, objective) -> float:
    """`metric` on one fold; a threshold metric at the threshold tuned on it."""
    if metrics.is_ranking(metric):
        return evaluate.ranking_metrics(y, p)[metric]
    return evaluate.threshold_metrics(y, p, evaluate.choose_threshold(y, p, objective))[metric]


@dataclass
class FoldFit:
    """Fits one candidate on one fold; raises Stop once `cancel` is set or,
    for a booster, past `deadline`."""

    schema: object
    X: object
    y: np.ndarray
    learner: str
    strategy: str
    config: object
    ratio: float
    params: dict
    derived: object
    deadline: float | None
    cancel: threading.Event

    def __call__(self, fit_idx, val_idx):
        if self.cancel.is_set():
            raise Stop("pruned")
        started = time.perf_counter()
        config = self.config
        pipe = build_pipeline(
            self.schema,
            self.learner,
            self.strategy,
            config.seed,
            self.ratio,
            config.sums,
            params=self.params,
            derived=self.derived,
        )
        X_fit, y_fit = self.X.iloc[fit_idx], self.y[fit_idx]
        kept = None
        if LEARNERS[self.learner].early_stopping:
            kept = fit_early_stopped(
                pipe,
                X_fit,
                y_fit,
                self.learner,
                self.strategy,
                config.seed,
                self.deadline,
                self.cancel,
            )
            if self.deadline is not None and time.perf_counter() > self.deadline:
                raise Stop("out of budget")
        else:
            fit_quietly(pipe, X_fit, y_fit, **fit_params(self.learner, self.strategy, y_fit))
        predicted = predict_quietly(pipe, self.X.iloc[val_idx])
        return pipe, kept, predicted, time.perf_counter() - started


def _build_params(learner: str, params: dict | None, jobs: int) -> dict:
    out = dict(params or {})
    if LEARNERS[learner].early_stopping:
        out["early_stopping"] = True
    out.update(threads(learner, jobs))
    return out


def _outcomes(fit: FoldFit, folds, pool):
    """Each fold's result as a call, in fold order; with a pool (and a learner
    that allows it) the folds are already fitting side by side."""
    if pool is not None and LEARNERS[fit.learner].parallel_folds:
        futures = [pool.submit(fit, *split) for split in folds]
        return [future.result for future in futures], futures
    return [lambda split=split: fit(*split) for split in folds], []


def _collect(result, fit: FoldFit, folds, outcomes, progress, trial):
    """Take the folds in order into `result`; report the running score to an
    optuna `trial` and stop when it is pruned or out of time.
    Returns (oof, fold ids, rounds kept, seconds per fold)."""
    y, config = fit.y, fit.config
    oof = np.zeros(len(y), dtype=np.float64)
    ids = np.full(len(y), -1, dtype=int)
    rounds, seconds, running = [], [], []
    for k, ((_, val_idx), outcome) in enumerate(zip(folds, outcomes, strict=True)):
        pipe, kept, predicted, fold_seconds = outcome()  # in fold order, whoever fits it
        seconds.append(fold_seconds)
        if kept is not None:
            rounds.append(kept)
        oof[val_idx] = predicted
        ids[val_idx] = k
        if k == 0:
            result.sample_pipeline = pipe
        if progress is not None:
            progress.update(1)
        if trial is not None and k < len(folds) - 1:
            running.append(fold_metric(y[val_idx], oof[val_idx], config.metric, config.objective))
            trial.report(float(np.mean(running)), k)
            if trial.should_prune():
                raise Stop("pruned")
            if fit.deadline is not None and time.perf_counter() > fit.deadline:
                raise Stop("out of budget")
    return oof, ids, rounds, seconds


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
) -> CandidateResult:
    """CV one candidate. With an optuna `trial`, report the running fold score
    after each fold and stop when it is pruned or past `deadline`.

    With a thread `pool`, folds fit side by side (learners that allow it);
    their results are still taken in fold order, so pruning, and so the whole
    search, decides exactly as it does one fold at a time."""
    result = CandidateResult(learner, strategy, params=dict(params or {}))
    folds = splits if splits is not None else cv_splits(X, y, config)
    build_params = _build_params(learner, params, config.jobs)
    fit = FoldFit(
        schema,
        X,
        y,
        learner,
        strategy,
        config,
        ratio,
        build_params,
        derived,
        deadline,
        threading.Event(),
    )
    outcomes, futures = _outcomes(fit, folds, pool)
    try:
        oof, ids, rounds, seconds = _collect(result, fit, folds, outcomes, progress, trial)
    except Stop as stop:
        result.state, result.error, result.sample_pipeline = "pruned", str(stop), None
        return result
    except Exception as exc:  # a candidate that cannot fit is reported, not fatal
        result.state = "failed"
        result.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        result.sample_pipeline = None
        return result
    finally:
        fit.cancel.set()  # folds still queued or fitting for a stopped trial give up
        for future in futures:
            future.cancel()
    result.fit_seconds = float(np.mean(seconds))
    result.oof = oof
    result.rounds = int(round(np.mean(rounds))) if rounds else None
    result.threshold = evaluate.choose_threshold(y, oof, config.objective)
    result.folds = fold_scores(y, oof, ids, len(folds), result.threshold)
    return result
