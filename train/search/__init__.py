"""Leak-free, time-budgeted search over learners x imbalance strategies x
hyperparameters x derived features, one module per step:

1. `run`: a stratified split (80/20 by default); the test part is not touched
   until step 6.
2. `trials`: Optuna proposes trials, each scored by stratified k-fold CV on the
   train part (`cv`, fitting each fold with `fitting`); losing trials are
   pruned and clearly losing learner x strategy pairs raced out.
3. `cv`: a trial's threshold is tuned on its pooled out-of-fold predictions;
   fold metrics are reported at that threshold.
4. `ensemble`: greedy ensemble selection over the best trials, itself
   cross-validated; `selection` then picks the winner, with prefer_fast the
   cheapest to serve that is as good as the best.
5. `refit`: the winner refit on the whole train part and calibrated when it
   resamples or reweights.
6. `refit.score_on_test`: the winner is scored once on the test part.
"""

from train.search.candidate import DERIVED, RAW, CandidateResult
from train.search.config import SearchConfig
from train.search.fitting import build_pipeline, train_schema
from train.search.run import SearchResult, run_search

__all__ = [
    "DERIVED",
    "RAW",
    "CandidateResult",
    "SearchConfig",
    "SearchResult",
    "build_pipeline",
    "run_search",
    "train_schema",
]
