"""Search on samples, refit on all: which rows each trial sees, which
configurations move up to more rows, and whether a trial fits in the time left.

A large training split is searched on stratified row samples that grow by a
fixed factor (rungs). Every new trial starts on the smallest; the best few
configurations of a rung are run again on the next (successive halving over
sample size) while the clock says they fit. Scores are compared only within a
rung, since a model fitted on more rows scores differently. A training split
up to `sample_above` rows has one rung, all rows: the search is as before.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from train import leaderboard

GROWTH = 4  # rows of a rung over the rows of the one below
PROMOTE = 3  # configurations promoted from one rung to the next
EXPLORE_SHARE = 0.5  # share of the budget spent on the smallest rung before promoting
# A trial starts only when its predicted time, times this, fits in what is left.
SAFETY = 1.3
# Seconds per row of one whole CV trial (all folds), for a learner no trial has
# timed yet: generous, so a slow learner's first trial on a sample is not
# started too late. Measured rates replace them after one trial.
PRIOR_SECONDS_PER_ROW = {
    "logreg": 40e-6,
    "xgboost": 60e-6,
    "lightgbm": 40e-6,
    "rf": 150e-6,
    "gb": 300e-6,
    "keras": 400e-6,
}
DEFAULT_PRIOR = 300e-6


def rungs(n_rows: int, sample_above: int, first: int) -> list[int]:
    """Row counts of the rungs, smallest first: `[n_rows]` up to
    `sample_above`, else first, first*GROWTH, ... below n_rows."""
    if n_rows <= sample_above:
        return [n_rows]
    sizes, size = [], min(first, n_rows)
    while size < n_rows:
        sizes.append(size)
        size *= GROWTH
    return sizes


def stratified_rows(y: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Sorted indices of `size` rows with the table's positive rate (the rare
    class rounded up, so it keeps every positive it can)."""
    n = len(y)
    if size >= n:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    positives = np.flatnonzero(y == 1)
    negatives = np.flatnonzero(y != 1)
    n_pos = min(len(positives), max(1, math.ceil(size * len(positives) / n)))
    n_neg = min(len(negatives), size - n_pos)
    chosen = np.concatenate(
        [rng.choice(positives, n_pos, replace=False), rng.choice(negatives, n_neg, replace=False)]
    )
    return np.sort(chosen)


@dataclass
class Rung:
    """One sample: its rows of the training split (None: all), the frame and
    target materialised for it, and its CV folds."""

    rows: int
    index: np.ndarray | None
    X: pd.DataFrame
    y: np.ndarray
    folds: list


class Ladder:
    """The rungs of one search; a sample is materialised the first time a
    trial needs it, so rungs never reached cost no memory."""

    def __init__(self, X: pd.DataFrame, y: np.ndarray, config, cv_splits):
        self.X, self.y, self.config, self.cv_splits = X, y, config, cv_splits
        self.sizes = rungs(len(y), config.sample_above, config.first_rung)
        self._rungs: dict[int, Rung] = {}

    @property
    def sampled(self) -> bool:
        return self.sizes != [len(self.y)]

    def rung(self, rows: int) -> Rung:
        if rows not in self._rungs:
            if rows >= len(self.y):
                X, y, index = self.X, self.y, None
            else:
                # Seeded by the rung, not by the order of use: every worker of a
                # shared study, and --finalize, draws the same sample.
                index = stratified_rows(self.y, rows, self.config.seed + self.sizes.index(rows))
                X, y = self.X.iloc[index].reset_index(drop=True), self.y[index]
            self._rungs[rows] = Rung(rows, index, X, y, self.cv_splits(X, y, self.config))
        return self._rungs[rows]

    def final_rows(self, results) -> int:
        """The largest rung with a complete result: where the winner is chosen."""
        done = [r.rows for r in results if r.state == "complete"]
        return max(done) if done else self.sizes[0]

    def pending(self, results, metric: str) -> list[tuple[object, int]]:
        """(result, next rung's rows) for each of the best PROMOTE complete
        configurations of a rung not yet run on the next, lowest rung first."""
        out = []
        for rows, above in zip(self.sizes, self.sizes[1:], strict=False):
            ran = {key(r) for r in results if r.rows == above}
            here = [r for r in results if r.rows == rows and r.state == "complete"]
            out += [
                (r, above) for r in leaderboard.ranked(here, metric)[:PROMOTE] if key(r) not in ran
            ]
        return out


def key(result) -> str:
    """A configuration's identity across rungs (and across workers)."""
    return json.dumps(
        [result.learner, result.strategy, result.features, result.params],
        sort_keys=True,
        default=str,
    )


@dataclass
class TrialClock:
    """Predicts a trial's wall time: seconds per row per learner, from the
    trials already timed (priors before the first), scaled to the trial's rows."""

    observed: dict[str, list[float]] = field(default_factory=dict)

    def record(self, learner: str, rows: int, seconds: float) -> None:
        if rows > 0 and seconds > 0:
            self.observed.setdefault(learner, []).append(seconds / rows)

    def rate(self, learner: str) -> float:
        seen = self.observed.get(learner)
        if not seen:
            return PRIOR_SECONDS_PER_ROW.get(learner, DEFAULT_PRIOR)
        return float(np.median(seen[-5:]))

    def predict(self, learner: str, rows: int) -> float:
        return self.rate(learner) * rows

    def fits(self, learner: str, rows: int, seconds_left: float) -> bool:
        return self.predict(learner, rows) * SAFETY <= seconds_left

    def fits_like(self, result, rows: int, seconds_left: float) -> bool:
        """Does `result`'s configuration, rerun on `rows`, fit? Its own time
        scaled by rows when it was timed (its parameters matter more than its
        learner's median)."""
        if result.wall_seconds > 0 and result.rows > 0:
            predicted = result.wall_seconds * rows / result.rows
        else:
            predicted = self.predict(result.learner, rows)
        return predicted * SAFETY <= seconds_left


def refit_seconds(candidate, n_rows: int, folds: int) -> float:
    """The refit's predicted time: each member's measured seconds per fold
    fit, scaled from a fold's training rows to all `n_rows`."""
    members = [m for m, _ in candidate.members] if candidate.members else [candidate]
    total = 0.0
    for m in members:
        fold_rows = max(m.rows * (folds - 1) / folds, 1.0)
        total += m.fit_seconds * n_rows / fold_rows
    return total
