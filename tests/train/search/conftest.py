"""A small data set and a fast SearchConfig for the search's tests."""

import numpy as np
import pytest

from train.data import load_dataset
from train.search import CandidateResult, SearchConfig


@pytest.fixture
def dataset(csv_path):
    return load_dataset(str(csv_path), "y")


@pytest.fixture
def config():
    """SearchConfig with three folds and no serving-cost measurement by default."""

    def make(learners, strategies, **kw):
        kw.setdefault("folds", 3)
        kw.setdefault("measure_cost", False)
        return SearchConfig(learners, strategies, **kw)

    return make


@pytest.fixture
def candidate():
    """A CandidateResult with the given per-fold pr_auc, µs/row and OOF scores."""

    def make(name, fold_scores, us=float("nan"), oof=None, strategy="none", trial=0):
        c = CandidateResult(name, strategy, trial=trial)
        c.folds = [{"pr_auc": s} for s in fold_scores]
        c.us_per_row = us
        c.oof = None if oof is None else np.asarray(oof)
        return c

    return make
