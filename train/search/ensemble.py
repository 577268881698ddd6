"""Greedy ensemble selection (Caruana et al., 2004, with replacement) over the
best trials' out-of-fold predictions, itself cross-validated: the ensemble is
kept only when it beats the best single trial on the same folds by more than
one standard error of the difference."""

from __future__ import annotations

import numpy as np

from train import evaluate, leaderboard, metrics
from train.search import cv
from train.search.candidate import CandidateResult
from train.search.trials import ensemble_pool

ENSEMBLE_ROUNDS = 25  # greedy additions (with replacement)


def blend_metric(y, p, metric, objective) -> float:
    """`metric` of blended scores on one fold (the fast AUC where it applies)."""
    if metric in evaluate.AUC_METRICS and 0 < y.sum() < len(y):
        return evaluate.auc(y, p, metric)
    return cv.fold_metric(y, p, metric, objective)


def fold_values(y, oof, fold_ids, config, folds=None) -> list[float]:
    """The selection metric of `oof` on each of `folds` (default: all)."""
    folds = range(config.folds) if folds is None else folds
    return [
        blend_metric(y[fold_ids == k], oof[fold_ids == k], config.metric, config.objective)
        for k in folds
    ]


def cv_score(y, oof, fold_ids, config) -> float:
    return float(np.mean(fold_values(y, oof, fold_ids, config)))


def greedy(y, oofs: np.ndarray, fold_ids, config, folds) -> np.ndarray | None:
    """Caruana's greedy forward selection with replacement, scored on `folds`
    only: the member counts of the best round. Each fold's rows are taken
    once: a blend is the same sum row by row, scored on a fold's slice."""
    s = metrics.sign(config.metric)
    rows = [np.flatnonzero(fold_ids == k) for k in folds]
    ys = [y[r] for r in rows]
    parts = [oofs[:, r] for r in rows]
    counts = np.zeros(len(oofs), dtype=int)
    totals = [np.zeros(len(r)) for r in rows]
    best_counts, best_score = None, -np.inf
    for step in range(ENSEMBLE_ROUNDS):
        scores = [
            s
            * np.mean(
                [
                    blend_metric(
                        yk, (total + part[j]) / (step + 1), config.metric, config.objective
                    )
                    for yk, total, part in zip(ys, totals, parts, strict=True)
                ]
            )
            for j in range(len(oofs))
        ]
        j = int(np.argmax(scores))
        counts[j] += 1
        for total, part in zip(totals, parts, strict=True):
            total += part[j]
        if scores[j] > best_score + 1e-12:
            best_score, best_counts = scores[j], counts.copy()
    return best_counts


def _nested(y, oofs, ids, config) -> list[float]:
    """For each fold k, the score on k of weights chosen on the other folds."""
    nested = []
    for k in range(config.folds):
        others = [f for f in range(config.folds) if f != k]
        counts = greedy(y, oofs, ids, config, others)
        blend = (counts / counts.sum()) @ oofs
        nested.append(fold_values(y, blend, ids, config, [k])[0])
    return nested


def caruana(y, results, config) -> CandidateResult | None:
    """The ensemble candidate over the pool of best trials; None when the
    selection picks a single model.

    The weights are chosen on all folds. Because choosing them on the very
    predictions that score them flatters the blend, the selection is also
    cross-validated: for each fold k, weights chosen on the other folds score
    fold k. Those scores (`nested` on the candidate) are what decide whether
    the ensemble beats the single best model."""
    pool = ensemble_pool(results, config.metric)
    if len(pool) < 2:
        return None
    ids = cv.fold_ids(y, config)
    oofs = np.vstack([r.oof for r in pool])
    best_counts = greedy(y, oofs, ids, config, range(config.folds))
    if best_counts is None or (best_counts > 0).sum() < 2:
        return None
    weights = best_counts / best_counts.sum()
    members = [(pool[j], float(weights[j])) for j in range(len(pool)) if best_counts[j] > 0]
    oof = sum(w * m.oof for m, w in members)
    strategies = sorted({m.strategy for m, _ in members})
    ens = CandidateResult("ensemble", "+".join(strategies), members=members)
    ens.oof = oof
    ens.rows = pool[0].rows  # the pool is scored on one sample (run_search)
    ens.threshold = evaluate.choose_threshold(y, oof, config.objective)
    ens.folds = cv.fold_scores(y, oof, ids, config.folds, ens.threshold)
    ens.fit_seconds = sum(m.fit_seconds for m, _ in members)
    ens.nested = _nested(y, oofs, ids, config)
    return ens


def ensemble_wins(ens: CandidateResult | None, single: CandidateResult, metric: str) -> bool:
    """The ensemble is kept when its cross-validated selection beats the single
    best trial on the same folds by more than one SE of their difference."""
    if ens is None or ens.nested is None:
        return False
    return leaderboard.clearly_better_paired(ens.nested, single.fold_values(metric), metric)


def ensemble_document(ens: CandidateResult | None, single: CandidateResult, chosen: bool, metric):
    """ensemble.json: the ensemble formed (or None), against the single best."""
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
