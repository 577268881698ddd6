"""FLAML's side of `make bench-quality`; runs in .venv-flaml only.

Reads the train and test parts that scripts/bench_quality.py wrote (the
project's own split), runs FLAML's AutoML on the train part at the time
budget, and writes its probabilities: out-of-fold on the train part (the best
configuration refit per fold, for the threshold) and on the test part (the
final model). Metrics are computed by bench_quality.py with the project's own
metric code, so both tools are scored the same way.

    .venv-flaml/bin/python scripts/flaml_fit.py --dir FOLDER --budget 120 --metric ap
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

COLUMNS_FILE = "columns.json"
PREDICTIONS_FILE = "flaml_predictions.json"


def read_part(folder: Path, name: str, columns: dict):
    import pandas as pd

    # Missing categorical cells are "" (as the project encodes them); missing
    # numbers are empty cells read back as NaN.
    return pd.read_csv(
        folder / name,
        dtype={c: str for c in columns["categorical"]},
        keep_default_na=False,
        na_values={c: [""] for c in columns["numeric"]},
    )


def _plain(value):
    """A config value as JSON can hold it (numpy numbers become floats or ints)."""
    if isinstance(value, str | bool | type(None)):
        return value
    number = float(value)
    return int(number) if number.is_integer() else number


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dir", required=True, type=Path)
    p.add_argument("--budget", type=float, required=True, help="FLAML time_budget in seconds")
    p.add_argument("--metric", default="ap", help="FLAML metric: ap or roc_auc (default ap)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--n-jobs", type=int, default=-1, help="FLAML n_jobs (default -1: all cores)")
    args = p.parse_args(argv)

    import flaml
    import numpy as np
    from flaml import AutoML

    columns = json.loads((args.dir / COLUMNS_FILE).read_text())
    features = columns["numeric"] + columns["categorical"]
    train = read_part(args.dir, "train.csv", columns)
    test = read_part(args.dir, "test.csv", columns)
    X, y, folds = train[features], train[columns["target"]].to_numpy(), train[columns["fold"]]
    log = args.dir / "flaml.log"

    started = time.perf_counter()
    automl = AutoML()
    automl.fit(
        X,
        y,
        task="classification",
        time_budget=args.budget,
        metric=args.metric,
        seed=args.seed,
        n_jobs=args.n_jobs,
        log_file_name=str(log),
        verbose=0,
    )
    fit_seconds = time.perf_counter() - started

    # Out-of-fold probabilities of the best configuration, for the threshold:
    # the train part only, never the test part.
    started = time.perf_counter()
    oof = np.zeros(len(y))
    for k in sorted(folds.unique()):
        held = (folds == k).to_numpy()
        fold_model = AutoML()
        fold_model.retrain_from_log(
            log_file_name=str(log),
            X_train=X[~held],
            y_train=y[~held],
            task="classification",
            train_full=True,
            n_jobs=args.n_jobs,
        )
        oof[held] = fold_model.predict_proba(X[held])[:, 1]
    oof_seconds = time.perf_counter() - started

    started = time.perf_counter()
    p_test = automl.predict_proba(test[features])[:, 1]
    predict_seconds = time.perf_counter() - started
    (args.dir / PREDICTIONS_FILE).write_text(
        json.dumps(
            {
                "flaml_version": flaml.__version__,
                "metric": args.metric,
                "budget": args.budget,
                "n_jobs": args.n_jobs,
                "best_estimator": automl.best_estimator,
                "best_config": {k: _plain(v) for k, v in automl.best_config.items()},
                "fit_seconds": fit_seconds,
                "oof_seconds": oof_seconds,
                "predict_seconds": predict_seconds,
                "oof": oof.tolist(),
                "test": p_test.tolist(),
            }
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
