"""Which candidate is served, and the sentence that says why.

The best cross-validated candidate wins (the ensemble only when clearly
better). With prefer_fast, the cheapest to serve that is as good as the best
(behind it on the same folds by no more than one standard error of their
difference) wins instead. The serving cost comes from a cost function the
caller hands in, so the search itself never imports export."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import numpy as np

from train import leaderboard, metrics
from train.data import UsageError
from train.search.candidate import CandidateResult
from train.trained import Member, TrainedModel, WeightedAverage

# --prefer-fast keeps the best unless a candidate within one SE serves it at
# least this many times faster (a NaN cost for the best never counts as fast).
FAST_ENOUGH = 1.5
# ...and saves at least this much onnxruntime time per row. Less is lost in an
# API call's fixed cost and is a small share of the batch path's per-row time
# (parsing and writing the CSV included): not worth any score.
MIN_SAVING_US = 2.0

# (model, rows) -> (ONNX bytes, µs per row of a batch, µs for one record)
CostFunction = Callable[[TrainedModel, object], tuple[float, float, float]]


def select(candidates: list[CandidateResult], metric: str) -> CandidateResult:
    """The usable candidate with the best mean CV `metric` (the first on a tie)."""
    usable = [c for c in candidates if c.error is None]
    if not usable:
        reasons = "; ".join(f"{c.learner}/{c.strategy}: {c.error}" for c in candidates)
        raise UsageError(f"no candidate could be trained ({reasons})")
    return leaderboard.ranked(usable, metric)[0]


def _sample_model(c: CandidateResult, schema) -> TrainedModel | None:
    """The candidate's fold-0 model(s) as a TrainedModel, or None when gone."""
    if c.members is not None:
        pipes = [(m.sample_pipeline, w, m) for m, w in c.members]
        if any(p is None for p, _, _ in pipes):
            return None
        members = [Member(m.name, m.learner, m.strategy, w, p) for p, w, m in pipes]
        return TrainedModel(
            WeightedAverage(members), "ensemble", c.strategy, 0.5, None, schema, members
        )
    if c.sample_pipeline is None:
        return None
    return TrainedModel(c.sample_pipeline, c.learner, c.strategy, 0.5, None, schema)


def measure_costs(candidates, schema, X_sample, progress, cost: CostFunction) -> None:
    """Each candidate's ONNX size and onnxruntime µs/row (fold-0 models stand
    in for the refit: same learner, parameters and roughly the same size)."""
    for c in candidates:
        if c.error is not None:
            continue
        progress.describe(f"serving cost {c.name}")
        model = _sample_model(c, schema)
        if model is None:
            continue
        try:
            c.onnx_bytes, c.us_per_row, c.us_per_record = cost(model, X_sample)
        except Exception as exc:  # no converter: the candidate cannot be served
            logging.getLogger(__name__).warning("cannot measure %s: %s", c.name, exc)


def _top(board, single_best, ens, ens_chosen, config, affordable):
    """The best candidate within the cost limit when one is: (top, whether the
    ensemble is still chosen, the better candidate passed over or None)."""
    passed_over = None
    if ens_chosen and not affordable(ens):
        ens_chosen, passed_over = False, ens
    top = ens if ens_chosen else single_best
    if not affordable(top):
        within = [c for c in board if c.members is None and c.folds and affordable(c)]
        if within:
            passed_over, top = passed_over or top, select(within, config.metric)
    return top, ens_chosen, passed_over


def _fastest(top, costed, config):
    """With prefer_fast, the cheapest candidate when it saves enough; else top."""
    if not (config.prefer_fast and costed):
        return top
    sign = metrics.sign(config.metric)
    fastest = min(costed, key=lambda c: (c.us_per_row, -sign * c.mean(config.metric)))
    # Timings of a few µs are noisy: trade score for speed only for a real saving.
    if (
        fastest is not top
        and not (top.us_per_row <= fastest.us_per_row * FAST_ENOUGH)
        and not (top.us_per_row - fastest.us_per_row < MIN_SAVING_US)
    ):
        return fastest
    return top


def _reason(winner, top, top_folds, ens_chosen, passed_over, costed, config) -> str:
    metric, limit = config.metric, config.max_us_per_row
    limit_note = (
        f"; {passed_over.name} scored better but takes {passed_over.us_per_row:.1f} µs per "
        f"row, over the {limit:g} µs/row limit (--max-us-per-row)"
        if passed_over is not None
        else ""
    )
    if winner is top:
        return (
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
    gain, se = leaderboard.paired_difference(top_folds, winner.fold_values(metric), metric)
    return (
        f"--prefer-fast: {winner.name} ({metric} {winner.mean(metric):.4f}, "
        f"{winner.us_per_row:.2f} µs/row) is behind the best, {top.name} "
        f"({float(np.mean(top_folds)):.4f}, {top.us_per_row:.2f} µs/row), by {gain:.4f} on the "
        f"same folds, within one SE of that difference ({se:.4f}), and the cheapest to serve "
        f"(by {FAST_ENOUGH:g}x and {MIN_SAVING_US:g} µs/row or more)" + limit_note
    )


def choose(board, single_best, ens, ens_chosen, config) -> tuple[CandidateResult, dict]:
    """The winner and the selection document (metrics.json's `selection`).

    A candidate slower than `max_us_per_row` is passed over while another is
    within it: the API's latency and the S3 path's throughput are promises,
    which a few thousandths of CV score do not buy. The batch figure is the
    one held against the limit: a best-of over many rows is steady from run
    to run, where one record's call time is not."""
    metric, limit = config.metric, config.max_us_per_row

    def affordable(c) -> bool:
        return limit is None or math.isnan(c.us_per_row) or c.us_per_row <= limit

    over = [c.name for c in board if c.error is None and not affordable(c)]
    top, ens_chosen, passed_over = _top(board, single_best, ens, ens_chosen, config, affordable)
    # The ensemble's honest per-fold scores are those of its cross-validated selection.
    top_folds = ens.nested if ens_chosen else top.fold_values(metric)

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
    costed = [c for c in eligible if not math.isnan(c.us_per_row)]
    winner = _fastest(top, costed, config)
    info = {
        "prefer_fast": config.prefer_fast,
        "max_us_per_row": limit,
        "over_limit": over,
        "best": top.name,
        "best_cv_score": float(np.mean(top_folds)),
        "best_cv_se": top.se(metric),
        "within_one_se": [c.name for c in eligible],
        "picked": winner.name,
    }
    if passed_over is not None:
        info["passed_over"] = passed_over.name
    info["reason"] = _reason(winner, top, top_folds, ens_chosen, passed_over, costed, config)
    return winner, info
