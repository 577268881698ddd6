"""The Optuna loop: which trials run, which are pruned, which pairs are raced
out, and which results are kept for costing and ensembling.

Optuna (TPE, seeded) proposes a learner, an imbalance strategy, the learner's
hyperparameters and whether to use the derived features; the first trials are
each learner's untuned defaults. A trial whose running fold score falls in the
worst quarter of earlier trials is pruned; a learner x strategy pair that
clearly loses to the best trial on the same folds gets no more trials. The
loop stops at the budget, or after exactly `trials` trials (no clock involved).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from train import leaderboard, metrics
from train.features import DerivedSpec
from train.models import LEARNERS
from train.search import cv, schedule
from train.search.candidate import DERIVED, RAW, CandidateResult
from train.search.fitting import skipped_reason

ENSEMBLE_POOL = 10  # best trials the ensemble may draw from
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


def first_trials(config) -> list[tuple[str, str]]:
    """Each learner's starting point, with the first strategy it can use; the
    sampler explores the other strategies (every pair is a trial away)."""
    out = []
    for learner in config.learners:
        usable = [s for s in config.strategies if skipped_reason(learner, s) is None]
        if usable:
            out.append((learner, usable[0]))
    return out


def suggest(trial, config, has_derived: bool, defaults: bool):
    """(learner, strategy, features, params) for an optuna trial."""
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


def complete(results) -> list[CandidateResult]:
    return [r for r in results if r.state == "complete"]


def ranked(results, metric) -> list[CandidateResult]:
    """Complete trials, best first (ties in trial order)."""
    return leaderboard.ranked(complete(results), metric)


def pair_bests(results, metric) -> list[CandidateResult]:
    """Each (learner, strategy) pair's best complete trial; pairs with none
    show their last failure (pairs only ever pruned are in trials.csv)."""
    out: dict[tuple[str, str], CandidateResult] = {}
    for r in ranked(results, metric):
        out.setdefault((r.learner, r.strategy), r)
    for r in results:
        if r.state == "failed" and (r.learner, r.strategy) not in out:
            out[(r.learner, r.strategy)] = r
    return list(out.values())


def ensemble_pool(results, metric) -> list[CandidateResult]:
    """The trials the ensemble may draw from: the best of each learner x
    strategy x features group first, best first, then the next best trials.
    A pool of the top trials alone holds near-copies of one model, which err
    together, and blending gains from models that err differently."""
    ranked_trials = ranked(results, metric)
    groups: dict[tuple[str, str, str], CandidateResult] = {}
    for r in ranked_trials:
        groups.setdefault((r.learner, r.strategy, r.features), r)
    diverse = list(groups.values())
    seen = {id(r) for r in diverse}
    return (diverse + [r for r in ranked_trials if id(r) not in seen])[:ENSEMBLE_POOL]


def losing_pairs(results, metric) -> set[tuple[str, str]]:
    """Learner x strategy pairs whose best complete trial clearly loses to the
    best trial on the same folds: further trials of theirs would spend the
    budget where it cannot pay (a resampler that costs more than it gives, a
    learner that cannot fit this data as well)."""
    ranked_trials = ranked(results, metric)
    if not ranked_trials:
        return set()
    best = ranked_trials[0]
    best_folds = best.fold_values(metric)
    margin = LOSING_OWN_SE * best.se(metric)
    out = set()
    for r in pair_bests(results, metric):
        if r is best or r.state != "complete":
            continue
        gain, se = leaderboard.paired_difference(best_folds, r.fold_values(metric), metric)
        if gain > max(LOSING_PAIRED_SE * se, margin):
            out.add((r.learner, r.strategy))
    return out


def drop_unneeded_pipelines(results, metric) -> None:
    """Keep fold-0 pipelines only for candidates that may be costed or ensembled."""
    keep = {id(c) for c in pair_bests(results, metric)}
    keep |= {id(c) for c in ensemble_pool(results, metric)}
    for r in results:
        if id(r) not in keep:
            r.sample_pipeline = None


def open_storage(url: str):
    """An Optuna storage from --storage: an RDB URL (postgresql://, sqlite://,
    mysql://), or Optuna's journal file (journal:///path or a plain path)."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    if url.startswith("journal://"):
        return JournalStorage(JournalFileBackend(url[len("journal://") :]))
    if "://" in url:
        return url
    return JournalStorage(JournalFileBackend(url))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def load_study(config, seed: int | None = None):
    """The study: in memory, or created in (or loaded from) --storage."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    logging.getLogger("optuna").setLevel(logging.WARNING)
    n_pairs = len(first_trials(config))
    return optuna.create_study(
        storage=open_storage(config.storage) if config.storage else None,
        study_name=config.study,
        load_if_exists=config.storage is not None,
        direction="maximize" if metrics.higher_is_better(config.metric) else "minimize",
        sampler=optuna.samplers.TPESampler(
            seed=config.seed if seed is None else seed,
            multivariate=True,
            group=True,
            n_startup_trials=n_pairs + 5,
        ),
        # Every trial sees the same folds in the same order, so comparing running
        # scores at the same fold is fair; only the worst quarter is cut, since
        # one fold's score is noisy.
        pruner=optuna.pruners.PercentilePruner(
            PRUNE_PERCENTILE, n_startup_trials=n_pairs + 2, n_warmup_steps=0
        ),
    )


def _study(config, pairs, has_derived: bool):
    # Workers on one shared study draw different proposals.
    shared = config.storage is not None
    study = load_study(config, config.seed + os.getpid() if shared else None)
    if shared and study.trials:
        return study  # another worker enqueued the starting points
    for learner, strategy in pairs:
        fixed = {"learner": learner, f"{learner}.strategy": strategy}
        if has_derived:
            fixed["features"] = DERIVED
        study.enqueue_trial(fixed, user_attrs={"defaults": True})
    return study


@dataclass
class _Race:
    """The loop's state: every result so far, the best score, and the learners
    and pairs no longer worth a trial."""

    config: object
    deadline: float | None
    first_rows: int = 0  # the smallest rung's rows: new trials run there
    results: list[CandidateResult] = field(default_factory=list)
    best: float = float("nan")
    failures: dict[str, int] = field(default_factory=dict)
    banned: set[str] = field(default_factory=set)  # failed MAX_FAILURES times, never fitted
    losing: set[tuple[str, str]] = field(default_factory=set)  # see losing_pairs
    rejected: int = 0

    def any_complete(self) -> bool:
        return any(r.state == "complete" for r in self.results)

    def explored(self) -> int:
        return sum(r.rows == self.first_rows for r in self.results)

    def left(self) -> float:
        return float("inf") if self.deadline is None else self.deadline - time.perf_counter()

    def over(self) -> bool:
        if len(self.banned) >= len(self.config.learners):
            return True
        if self.config.trials is not None and self.explored() >= self.config.trials:
            return True
        return self.deadline is not None and self.left() <= 0 and self.any_complete()

    def skip(self, learner: str, strategy: str) -> bool:
        """Not run, not counted. The caller tells optuna the trial was pruned,
        not failed: TPE ranks a pruned trial with no score below every scored
        one and so learns to avoid the region, where it ignores failed trials
        and would propose them again and again."""
        if learner in self.banned:
            return True
        if (learner, strategy) in self.losing and self.rejected < MAX_REJECTIONS:
            self.rejected += 1
            return True
        self.rejected = 0
        return False

    def record(self, study, trial, result: CandidateResult) -> None:
        from optuna.trial import TrialState

        metric = self.config.metric
        score = result.mean(metric)
        if result.state == "complete":
            study.tell(trial, score)
            if result.rows == self.first_rows and metrics.is_better(score, self.best, metric):
                self.best = score
        elif result.state == "pruned":
            study.tell(trial, state=TrialState.PRUNED)
        else:
            study.tell(trial, state=TrialState.FAIL)
            learner = result.learner
            self.failures[learner] = self.failures.get(learner, 0) + 1
            fitted = any(r.learner == learner and r.state != "failed" for r in self.results)
            if self.failures[learner] >= MAX_FAILURES and not fitted:
                self.banned.add(learner)
        self.results.append(result)
        first = [r for r in self.results if r.rows == self.first_rows]
        self.losing = losing_pairs(first, metric)
        for rows in {r.rows for r in self.results}:
            drop_unneeded_pipelines([r for r in self.results if r.rows == rows], metric)


def _promotion(race, ladder, clock, config, started):
    """(result, rows) of the next configuration to run on a bigger rung, once
    the smallest rung has had its share (its trials, or EXPLORE_SHARE of the
    budget), and only when the clock says it fits; else None."""
    if not ladder.sampled:
        return None
    if config.trials is not None:
        if race.explored() < config.trials:
            return None
    elif time.perf_counter() - started < schedule.EXPLORE_SHARE * config.budget:
        return None
    for origin, rows in ladder.pending(race.results, config.metric):
        if origin.learner not in race.banned and clock.fits_like(origin, rows, race.left()):
            return origin, rows
    return None


def _nothing_fits(race, clock, config) -> bool:
    """No learner's next trial on the smallest rung fits in the time left (a
    search with no result yet always gets its first trial)."""
    if race.deadline is None or not race.any_complete():
        return False
    left = race.left()
    return not any(
        clock.fits(learner, race.first_rows, left)
        for learner in config.learners
        if learner not in race.banned
    )


def _ask(study, promotion, first_rows: int):
    """The next optuna trial, its rows, and whether it starts from defaults."""
    if promotion is not None:
        origin, rows = promotion
        study.enqueue_trial(
            origin.optuna_params,
            user_attrs={"rows": rows, "defaults": origin.defaults, "promoted_from": origin.trial},
        )
    trial = study.ask()
    rows = int(trial.user_attrs.get("rows", first_rows))
    return trial, rows, bool(trial.user_attrs.get("defaults", False))


def run_trials(schema, X, y, config, ratio, derived_auto: DerivedSpec, progress):
    """The Optuna loop (ask/tell), on the rungs of `schedule.Ladder`. Returns
    every trial's CandidateResult, the seconds it took, and the ladder."""
    from optuna.trial import TrialState

    user = DerivedSpec(sums=tuple(config.sums))
    specs = {RAW: user, DERIVED: user.merged(derived_auto)}
    has_derived = bool(derived_auto)
    study = _study(config, first_trials(config), has_derived)
    ladder = schedule.Ladder(X, y, config, cv.cv_splits)
    clock = schedule.TrialClock()
    started = time.perf_counter()
    deadline = None if config.trials is not None else started + config.budget
    race = _Race(config, deadline, ladder.sizes[0])
    pool = ThreadPoolExecutor(config.workers) if config.workers > 1 else None
    worker = worker_name()
    try:
        with warnings.catch_warnings():
            # One filter for every fold thread: catch_warnings inside threads
            # races on the process-wide filter list.
            warnings.simplefilter("ignore")
            while True:
                promotion = _promotion(race, ladder, clock, config, started)
                if promotion is None and (race.over() or _nothing_fits(race, clock, config)):
                    break
                trial, rows, defaults = _ask(study, promotion, race.first_rows)
                learner, strategy, features, params = suggest(
                    trial, config, has_derived, defaults=defaults
                )
                promoted = rows != race.first_rows
                if not promoted and (
                    race.skip(learner, strategy)
                    or (race.any_complete() and not clock.fits(learner, rows, race.left()))
                ):
                    study.tell(trial, state=TrialState.PRUNED)
                    continue
                trial.set_user_attr("worker", worker)
                trial.set_user_attr("rows", rows)
                progress.describe(f"trial {trial.number} {learner}/{strategy} on {rows:,} rows")
                rung = ladder.rung(rows)
                began = time.perf_counter()
                result = cv.cross_validate(
                    schema,
                    rung.X,
                    rung.y,
                    learner,
                    strategy,
                    config,
                    ratio,
                    params=params,
                    derived=specs[features],
                    splits=rung.folds,
                    trial=None if promoted else trial,  # other rungs' scores would prune it
                    deadline=race.deadline if race.any_complete() else None,
                    pool=pool,
                )
                result.wall_seconds = time.perf_counter() - began
                if result.state == "complete":
                    clock.record(learner, rows, result.wall_seconds)
                result.trial, result.features, result.rows = trial.number, features, rows
                result.optuna_params, result.defaults = dict(trial.params), defaults
                result.elapsed_seconds = time.perf_counter() - started
                race.record(study, trial, result)
                progress.trial_done(len(race.results), race.best)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return race.results, time.perf_counter() - started, ladder
