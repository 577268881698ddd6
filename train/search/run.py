"""run_search: split, search, ensemble, price, choose, refit, score on test."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from train.column_kinds import date_columns
from train.data import Dataset
from train.encoding import choose as choose_encodings
from train.features import DerivedSpec, discover
from train.search import cv, refit, schedule, selection
from train.search.candidate import CandidateResult
from train.search.ensemble import caruana, ensemble_document, ensemble_wins
from train.search.fitting import train_schema
from train.search.progress import Progress
from train.search.trials import pair_bests, run_trials
from train.trained import TrainedModel

COST_ROWS = 1000  # training rows each candidate's serving cost is timed on


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
    # Pairs scored only on smaller samples than the winner's (leaderboard rows after the rest).
    lower_rungs: list[CandidateResult] = field(default_factory=list)
    rungs: list[int] = field(default_factory=list)  # rows of each search sample
    refit_predicted_seconds: float = float("nan")
    refit_seconds: float = float("nan")
    test_raw: np.ndarray | None = None  # the pipeline's test probabilities, before calibration
    # Seconds outside the search and refit: prepare (split, encodings, derived
    # features), select (ensemble, serving costs), test (the test scoring).
    phase_seconds: dict = field(default_factory=dict)


def onnx_cost(model, X) -> tuple[float, float, float]:
    """export's serving-cost measurement, imported only when a candidate is priced."""
    from export.cost import measure

    return measure(model, X)


@dataclass
class _Split:
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: np.ndarray
    y_test: np.ndarray
    schema: object  # with the categories seen in training
    ratio: float  # negatives per positive in the train part
    derived_auto: DerivedSpec  # discovered derived-feature candidates


def _split(dataset: Dataset, config) -> _Split:
    """The stratified train/test split; the test part is not looked at again
    until score_on_test."""
    X_train, X_test, y_train, y_test = train_test_split(
        dataset.X,
        dataset.y,
        test_size=config.test_size,
        stratify=dataset.y,
        random_state=config.seed,
    )
    X_train = X_train.reset_index(drop=True)
    X_test = X_test.reset_index(drop=True)
    cv.check_enough_positives(y_train, config)
    schema = train_schema(dataset.schema, X_train)
    # Encodings and derived features are decided on at most sample_above rows
    # (all of a small table): a stratified sample tells them apart as well, in
    # a fraction of a large table's time.
    look = schedule.stratified_rows(y_train, config.sample_above, config.seed)
    X_look, y_look = X_train.iloc[look].reset_index(drop=True), y_train[look]
    schema = choose_encodings(schema, X_look, y_look, config.folds, config.seed)
    ratio = float((y_train == 0).sum()) / max(int(y_train.sum()), 1)
    taken = schema.names + [n for n, _ in config.sums]
    derived_auto = (
        discover(X_look, y_look, schema.numeric, taken, schema.categorical, date_columns(schema))
        if config.auto_features
        else DerivedSpec()
    )
    return _Split(X_train, X_test, y_train, y_test, schema, ratio, derived_auto)


def _choose(trials, s: _Split, config, progress, cost, y):
    """(leaderboard candidates, single best, ensemble or None, winner, selection),
    from `trials` scored on the same rows (whose target is `y`)."""
    board = pair_bests(trials, config.metric)
    single_best = selection.select(board, config.metric)
    ens = caruana(y, trials, config) if config.ensemble else None
    ens_chosen = ensemble_wins(ens, single_best, config.metric)
    costed = board + ([ens] if ens is not None else [])
    if config.measure_cost:
        sample = s.X_train.sample(min(len(s.X_train), COST_ROWS), random_state=config.seed)
        selection.measure_costs(costed, s.schema, sample, progress, cost or onnx_cost)
    winner, info = selection.choose(costed, single_best, ens, ens_chosen, config)
    return (costed if winner is ens else board), single_best, ens, winner, info


def run_search(
    dataset: Dataset,
    config,
    progress_factory=None,
    cost: selection.CostFunction | None = None,
    trials_fn=run_trials,
) -> SearchResult:
    """The whole search on `dataset`. `cost(model, rows)` prices a candidate
    (default: export's onnxruntime measurement); `progress_factory(total)`
    makes a progress bar; `trials_fn` runs the trials (train.search.shared's
    finalize reruns a shared study's best instead)."""
    started = time.perf_counter()
    s = _split(dataset, config)
    phases = {"prepare": time.perf_counter() - started}
    progress = Progress(progress_factory, config, time.perf_counter())
    trials, search_seconds, ladder = trials_fn(
        s.schema, s.X_train, s.y_train, config, s.ratio, s.derived_auto, progress
    )
    # Scores are compared only on the same rows: the largest sample with a result.
    final = ladder.rung(ladder.final_rows(trials))
    compared = [t for t in trials if t.rows == final.rows]
    started = time.perf_counter()
    board, single_best, ens, winner, info = _choose(compared, s, config, progress, cost, final.y)
    phases["select"] = time.perf_counter() - started
    predicted = schedule.refit_seconds(winner, len(s.y_train), config.folds)
    progress.note(
        f"refit: {winner.name if winner.members else f'{winner.learner}/{winner.strategy}'} on "
        f"{len(s.y_train):,} rows, about {predicted:.0f} s (predicted)"
    )
    refit_started = time.perf_counter()
    pipeline, members = refit.refit_winner(
        winner, s.schema, s.X_train, s.y_train, config, s.ratio, s.derived_auto, progress
    )
    refit_seconds = time.perf_counter() - refit_started
    progress.close()
    calibration, threshold, calibration_report = refit.calibrate(winner, final.y, config)
    model = TrainedModel(
        pipeline, winner.learner, winner.strategy, threshold, calibration, s.schema, members
    )
    started = time.perf_counter()
    test_raw = refit.test_probabilities(model, s.X_test)
    test_metrics = refit.score_on_test(model, test_raw, s.y_test, calibration_report)
    phases["test"] = time.perf_counter() - started
    for c in trials:
        c.sample_pipeline = None
    return SearchResult(
        model=model,
        candidates=board,
        winner=winner,
        test_metrics=test_metrics,
        calibration_report=calibration_report,
        X_test=s.X_test,
        y_test=s.y_test,
        n_train=len(s.y_train),
        X_train=s.X_train,
        y_train=s.y_train,
        ratio=s.ratio,
        trials=trials,
        ensemble=ensemble_document(ens, single_best, winner is ens, config.metric),
        selection=info,
        derived=s.derived_auto,
        search_seconds=search_seconds,
        ensemble_candidate=ens,
        lower_rungs=lower_rungs(trials, final.rows, config.metric),
        rungs=ladder.sizes,
        refit_predicted_seconds=predicted,
        refit_seconds=refit_seconds,
        test_raw=test_raw,
        phase_seconds=phases,
    )


def lower_rungs(trials, final_rows: int, metric: str) -> list[CandidateResult]:
    """The best trial of each pair that never reached `final_rows`, from the
    largest sample it was scored on."""
    out: list[CandidateResult] = []
    seen = {(t.learner, t.strategy) for t in trials if t.rows == final_rows}
    for rows in sorted({t.rows for t in trials if t.rows < final_rows}, reverse=True):
        for c in pair_bests([t for t in trials if t.rows == rows], metric):
            if c.state == "complete" and (c.learner, c.strategy) not in seen:
                out.append(c)
                seen.add((c.learner, c.strategy))
    return out
