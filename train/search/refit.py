"""After the search: the winner refit on the whole train part (boosters with
the rounds early stopping chose), calibrated (Platt, on its out-of-fold
scores) when it resamples or reweights with its threshold re-tuned on the
calibrated scores, then scored once on the test part."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from imblearn.pipeline import Pipeline

from train import evaluate
from train.features import DerivedSpec
from train.models import LEARNERS
from train.samplers import NONE
from train.search.candidate import DERIVED, CandidateResult
from train.search.fitting import build_pipeline, fit_params, fit_quietly, threads
from train.trained import Member, TrainedModel, WeightedAverage


def refit(c: CandidateResult, schema, X, y, config, ratio, derived_auto) -> Pipeline:
    """`c`'s pipeline fitted on all of (X, y), as the search fitted it on folds."""
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
    fit_quietly(pipe, X, y, **fit_params(c.learner, c.strategy, y))
    return pipe


def refit_winner(winner, schema, X, y, config, ratio, derived_auto, progress):
    """(pipeline or WeightedAverage, members or None); an ensemble's members
    refit side by side when every member's learner allows threads."""
    if winner.members is None:
        progress.describe(f"refit {winner.name}")
        return refit(winner, schema, X, y, config, ratio, derived_auto), None
    progress.describe(f"refit {len(winner.members)} members")
    # Side by side only on tables searched whole: on a large one each member's
    # refit holds its own copy of the encoded rows, and memory matters more.
    side_by_side = (
        config.workers > 1
        and len(y) <= config.sample_above
        and all(LEARNERS[m.learner].parallel_folds for m, _ in winner.members)
    )
    with (
        ThreadPoolExecutor(config.workers if side_by_side else 1) as pool,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")  # once for every thread (see trials.run_trials)
        pipes = list(
            pool.map(
                lambda m: refit(m, schema, X, y, config, ratio, derived_auto),
                [m for m, _ in winner.members],
            )
        )
    members = [
        Member(m.name, m.learner, m.strategy, w, pipe)
        for (m, w), pipe in zip(winner.members, pipes, strict=True)
    ]
    return WeightedAverage(members), members


def calibrate(winner, y_train, config) -> tuple[evaluate.PlattCalibration | None, float, dict]:
    """(calibration or None, threshold, the calibration report) for the winner."""
    strategies = {m.strategy for m, _ in winner.members} if winner.members else {winner.strategy}
    oof = winner.oof
    report = {
        "applied": False,
        "method": None,
        "reason": "the winner neither resamples nor reweights (--calibration auto)",
        "oof_brier_before": evaluate.ranking_metrics(y_train, oof)["brier"],
    }
    if not (config.calibration == "on" or (config.calibration == "auto" and strategies != {NONE})):
        return None, winner.threshold, report
    calibration = evaluate.PlattCalibration.fit(y_train, oof)
    calibrated = calibration.apply(oof)
    threshold = evaluate.choose_threshold(y_train, calibrated, config.objective)
    report.update(
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
    return calibration, threshold, report


def test_probabilities(model: TrainedModel, X_test) -> np.ndarray:
    """The pipeline's test-part probabilities before calibration (kept for the
    report, which would otherwise predict the test part again)."""
    return model.pipeline.predict_proba(X_test[model.schema.names])[:, 1]


def score_on_test(model: TrainedModel, raw_test, y_test, calibration_report: dict) -> dict:
    """The one evaluation on the test part, from test_probabilities; adds its
    Brier scores (with and without calibration) to `calibration_report`."""
    schema, calibration = model.schema, model.calibration
    p_test = calibration.apply(raw_test) if calibration is not None else raw_test
    test_metrics = evaluate.ranking_metrics(y_test, p_test)
    calibration_report["test_brier_uncalibrated"] = (
        evaluate.ranking_metrics(y_test, raw_test)["brier"]
        if calibration is not None
        else test_metrics["brier"]
    )
    calibration_report["test_brier"] = test_metrics["brier"]
    test_metrics.update(evaluate.threshold_metrics(y_test, p_test, model.threshold))
    pred = (p_test >= model.threshold).astype(int)
    test_metrics["per_class"] = evaluate.per_class_table(
        y_test, pred, schema.negative_label, schema.positive_label
    )
    return test_metrics
