"""The numbers behind the report: rankings, the runner-up, bootstrap intervals,
permutation importance, the search's per-learner summary.

Metric direction always comes from `train.metrics`, ranking from `train.leaderboard`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from train import evaluate, leaderboard

BOOTSTRAP = 200
IMPORTANCE_ROWS = 5000
IMPORTANCE_REPEATS = 3
# Data-overview figures and the runner-up's refit use at most this many rows
# (a stratified sample), so the report's time and memory stay bounded on
# tables of millions of rows.
REPORT_ROWS = 100_000
# The test metrics given bootstrap intervals (what weighted_metrics computes).
INTERVAL_METRICS = ("roc_auc", "pr_auc", "f1", "precision", "recall")


def ranked_candidates(candidates, metric: str) -> list:
    """The search's candidates that trained, best first by their CV `metric`."""
    return leaderboard.ranked([c for c in candidates if c.error is None], metric)


def runner_up(result, metric: str):
    """The best candidate other than the winner, or None."""
    others = [
        c
        for c in ranked_candidates(result.candidates, metric)
        if c is not result.winner and c.members is None
    ]
    return others[0] if others else None


def bounded(X: pd.DataFrame, y: np.ndarray, rows: int, seed: int):
    """(X, y), or a stratified sample of `rows` of them when there are more."""
    if len(y) <= rows:
        return X, y
    from train.search.schedule import stratified_rows

    take = stratified_rows(np.asarray(y), rows, seed)
    return X.iloc[take].reset_index(drop=True), np.asarray(y)[take]


def runner_up_scores(result, config, candidate) -> np.ndarray:
    """Test-split probabilities of `candidate` refit on the train split (at
    most REPORT_ROWS of it) as the search would refit it (its parameters,
    rounds and features)."""
    from train.search.refit import refit

    schema = result.model.schema
    X, y = bounded(result.X_train, result.y_train, REPORT_ROWS, config.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = refit(candidate, schema, X, y, config, result.ratio, result.derived)
        return pipe.predict_proba(result.X_test[schema.names])[:, 1]


def trial_summary(trials: pd.DataFrame, metric: str) -> list[dict]:
    """Per learner: trials run, completed, pruned or failed, and the best completed
    score (`trials.csv` holds `metric` in its score column); best learner first."""
    state = trials["state"].str.lower()
    rows = []
    for learner, mine in trials.groupby("learner", sort=True):
        s = state[mine.index]
        scores = mine.loc[s == "complete", ["score"]].rename(columns={"score": metric})
        rows.append(
            {
                "learner": learner,
                "trials": len(mine),
                "complete": int((s == "complete").sum()),
                "pruned": int((s == "pruned").sum()),
                "failed": int((~s.isin(["complete", "pruned"])).sum()),
                metric: float(leaderboard.best(scores, metric)[metric])
                if len(scores)
                else float("nan"),
            }
        )
    if not rows:
        return []
    return leaderboard.rank(pd.DataFrame(rows), metric).to_dict("records")


def prf(y: np.ndarray, p: np.ndarray, thresholds: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall and F1 of `p >= t` for many t at once."""
    order = np.sort(p)
    positives = np.sort(p[y == 1])
    predicted = len(p) - np.searchsorted(order, thresholds, side="left")
    tp = len(positives) - np.searchsorted(positives, thresholds, side="left")
    precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), 0.0)
    recall = tp / max(len(positives), 1)
    f1 = np.where(
        precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0
    )
    return {"precision": precision, "recall": recall, "f1": f1}


def permutation_importance(model, X: pd.DataFrame, y: np.ndarray, seed: int):
    """Drop in PR AUC when one column is shuffled; works for every learner.

    A column's shuffles are scored in one call (the repeats stacked), since a
    pipeline's fixed cost per call dominates on a few thousand rows."""
    rng = np.random.default_rng(seed)
    if len(X) > IMPORTANCE_ROWS:
        take = rng.choice(len(X), IMPORTANCE_ROWS, replace=False)
        X, y = X.iloc[take].reset_index(drop=True), y[take]
    base = evaluate.ranking_metrics(y, model.predict_proba(X))["pr_auc"]
    stacked = pd.concat([X] * IMPORTANCE_REPEATS, ignore_index=True)
    n = len(X)
    rows = []
    for name in model.schema.names:
        shuffled = stacked.copy()
        shuffled[name] = np.concatenate(
            [rng.permutation(X[name].to_numpy()) for _ in range(IMPORTANCE_REPEATS)]
        )
        p = model.predict_proba(shuffled)
        drops = [
            base - evaluate.ranking_metrics(y, p[r * n : (r + 1) * n])["pr_auc"]
            for r in range(IMPORTANCE_REPEATS)
        ]
        rows.append((name, float(np.mean(drops)), float(np.std(drops))))
    rows.sort(key=lambda r: r[1])
    return rows, base


def weighted_metrics(y, p, w, threshold: float) -> dict[str, float]:
    """ROC AUC, PR AUC (average precision), precision, recall and F1 of the data set
    that repeats row k w[k] times: the same values scikit-learn gives on the
    repeated rows, from one pass over rows already sorted by descending p."""
    pos, neg = w * y, w * (1 - y)
    last = np.r_[p[1:] != p[:-1], True]  # the last row of each run of equal scores
    tp, fp = np.cumsum(pos)[last], np.cumsum(neg)[last]
    flagged = p >= threshold
    return _from_counts(tp, fp, float(pos[flagged].sum()), float(w[flagged].sum()))


def _from_counts(tp: np.ndarray, fp: np.ndarray, hit: float, shown: float) -> dict[str, float]:
    """The metrics from true and false positives at each distinct score
    (descending), and the positives and rows at or above the threshold."""
    P, N = tp[-1], fp[-1]
    tp0, fp0 = np.r_[0.0, tp[:-1]], np.r_[0.0, fp[:-1]]
    roc_auc = float(np.sum((fp - fp0) * (tp + tp0)) / (2 * P * N))
    predicted = tp + fp
    precision_k = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    pr_auc = float(np.sum((tp - tp0) / P * precision_k))
    precision = hit / shown if shown > 0 else 0.0
    recall = hit / P
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {
        "roc_auc": roc_auc,
        "pr_auc": pr_auc,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def bootstrap_intervals(y: np.ndarray, p: np.ndarray, threshold: float, seed: int) -> dict:
    """95 % percentile intervals over BOOTSTRAP resamples of the test split.

    A resample is a count per row, so each one costs a pass over rows sorted
    once, not a sort and scikit-learn's input checks per metric. The counts are
    whole numbers, so integer running sums give exactly weighted_metrics' sums."""
    rng = np.random.default_rng(seed)
    samples = {k: [] for k in INTERVAL_METRICS}
    n = len(y)
    order = np.argsort(-p, kind="mergesort")
    rank = np.empty(n, dtype=np.intp)
    rank[order] = np.arange(n)  # row -> its place in descending-score order
    ys = np.asarray(y)[order].astype(bool)
    ps = np.asarray(p, dtype=float)[order]
    ends = np.flatnonzero(np.r_[ps[1:] != ps[:-1], True])  # last row of each run of equal scores
    flagged = int((ps >= threshold).sum())  # a prefix, scores being in descending order
    for _ in range(BOOTSTRAP):
        counts = np.bincount(rank[rng.integers(0, n, n)], minlength=n)
        hits = np.cumsum(np.where(ys, counts, 0))
        if not 0 < hits[-1] < n:  # one class only
            continue
        m = _interval_metrics(hits, np.cumsum(counts), ends, flagged)
        for k in INTERVAL_METRICS:
            samples[k].append(m[k])
    return {
        k: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))) for k, v in samples.items()
    }


def _interval_metrics(hits: np.ndarray, rows: np.ndarray, ends: np.ndarray, flagged: int) -> dict:
    """weighted_metrics from the running sums of positives and of rows (in
    descending-score order): the same float operations on the same whole numbers."""
    tp = hits[ends].astype(float)
    fp = (rows[ends] - hits[ends]).astype(float)
    hit = float(hits[flagged - 1]) if flagged else 0.0
    shown = float(rows[flagged - 1]) if flagged else 0.0
    return _from_counts(tp, fp, hit, shown)
