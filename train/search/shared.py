"""One search across processes or machines, on Optuna's shared storage.

Workers (`--storage URL --study NAME`) each read the same data, split it the
same way (same seed), and ask the shared study for trials; each trial records
its worker and its rows in user_attrs. A worker only searches. `--finalize`
reruns the study's best configuration at the largest sample any trial
reached (its out-of-fold scores are needed to calibrate and to set the
threshold), refits it on the whole training split and writes the run folder;
it runs no search of its own, so two finalize steps pick the same trial.
"""

from __future__ import annotations

import time

from train import metrics
from train.data import UsageError
from train.search import cv, schedule
from train.search.run import run_search
from train.search.trials import load_study, suggest


def _complete(study):
    from optuna.trial import TrialState

    return [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]


def study_best(config):
    """(the study's best complete trial at its largest rows, those rows,
    the number of trials in the study)."""
    study = load_study(config)
    done = _complete(study)
    if not done:
        raise UsageError(
            f"study {config.study!r} in {config.storage} has no complete trial yet; "
            "run workers (without --finalize) first"
        )
    rows = max(int(t.user_attrs.get("rows", 0)) for t in done)
    at = [t for t in done if int(t.user_attrs.get("rows", 0)) == rows]
    best = min(at, key=lambda t: (metrics.sort_key(t.value, config.metric), t.number))
    return best, rows, len(study.trials)


def describe(config) -> str:
    """The line a worker prints when it is done."""
    best, rows, n = study_best(config)
    return (
        f"study {config.study}: {n} trials; best so far trial {best.number} "
        f"({best.params.get('learner')}, {config.metric} {best.value:.4f} on {rows:,} rows, "
        f"worker {best.user_attrs.get('worker', '?')})"
    )


def finalize(dataset, config, progress_factory=None, cost=None):
    """The run_search result for the study's best trial (see the module doc)."""
    from optuna.trial import FixedTrial

    from train.features import DerivedSpec

    best, rows, _ = study_best(config)

    def rerun(schema, X, y, config, ratio, derived_auto, progress):
        started = time.perf_counter()
        has_derived = bool(derived_auto)
        fixed = FixedTrial(best.params, best.number)
        defaults = bool(best.user_attrs.get("defaults", False))
        learner, strategy, features, params = suggest(fixed, config, has_derived, defaults)
        ladder = schedule.Ladder(X, y, config, cv.cv_splits)
        if rows not in ladder.sizes:
            raise UsageError(
                f"study {config.study!r} was searched on {rows:,} rows, which this data and "
                "seed do not give; finalize with the workers' --data, --seed and --test-size"
            )
        rung = ladder.rung(rows)
        user = DerivedSpec(sums=tuple(config.sums))
        derived = user.merged(derived_auto) if features == "derived" else user
        result = cv.cross_validate(
            schema, rung.X, rung.y, learner, strategy, config, ratio,
            params=params, derived=derived, splits=rung.folds,
        )  # fmt: skip
        if result.state != "complete":
            raise UsageError(f"trial {best.number} could not be refit: {result.error}")
        result.trial, result.features, result.rows = best.number, features, rows
        result.elapsed_seconds = time.perf_counter() - started
        return [result], result.elapsed_seconds, ladder

    return run_search(dataset, config, progress_factory, cost, trials_fn=rerun)


def search_only(dataset, config, progress_factory=None) -> str:
    """A worker: search within the budget (or trials), add to the study, and
    return the study's best as a line to print."""
    from train.search.progress import Progress
    from train.search.run import _split
    from train.search.trials import run_trials

    s = _split(dataset, config)
    progress = Progress(progress_factory, config, time.perf_counter())
    try:
        run_trials(s.schema, s.X_train, s.y_train, config, s.ratio, s.derived_auto, progress)
    finally:
        progress.close()
    return describe(config)
