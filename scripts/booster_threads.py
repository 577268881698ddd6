"""Time one booster fit on one thread and on every core, side by side.

Why `python -m train --jobs` defaults to 1: on a machine whose cores other
work shares, a booster's threads wait for each other every round. This fits
the search's own pipelines (preprocessing, derived features, the booster with
fixed rounds) on the train split, alternating the thread counts so that both
see the same load, and prints wall and CPU seconds of each fit. `--busy N`
stands in for the other work: N busy-looping processes at the script's
starting niceness run for the whole measurement while the fits run at
niceness 19 (as the project's long runs do).

    python scripts/booster_threads.py --data ../shared/data/marketing_data.csv \
        --target y --positive yes [--busy 1]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FITS = {  # the marketing search's first trials, refit with their rounds
    "xgboost": {"learning_rate": 0.1, "n_estimators": 157},
    "lightgbm": {"n_estimators": 116},
}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--positive")
    p.add_argument("--repeats", type=int, default=2, help="fits per learner and thread count")
    p.add_argument("--busy", type=int, default=0, help="busy processes beside the fits")
    args = p.parse_args(argv)
    busy = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.busy)]
    for proc in busy:
        proc.start()
    try:
        return measure(args)
    finally:
        for proc in busy:
            proc.terminate()
            proc.join()


def _spin() -> None:
    while True:
        pass


def measure(args) -> int:
    os.nice(19 - os.nice(0))

    from sklearn.model_selection import train_test_split

    from train.data import load_dataset
    from train.features import discover
    from train.search import build_pipeline, train_schema
    from train.search.fitting import fit_quietly

    ds = load_dataset(args.data, args.target, positive=args.positive)
    X, _, y, _ = train_test_split(ds.X, ds.y, test_size=0.2, stratify=ds.y, random_state=42)
    X = X.reset_index(drop=True)
    schema = train_schema(ds.schema, X)
    derived = discover(X, y, schema.numeric, schema.names, schema.categorical)
    print(
        f"{len(y):,} training rows, {os.cpu_count()} cores, load average "
        + " ".join(f"{v:.2f}" for v in os.getloadavg())
        + f", niceness {os.nice(0)}, {args.busy} busy process(es) beside"
    )
    for learner, params in FITS.items():
        times: dict[int, list[tuple[float, float]]] = {1: [], -1: []}
        for _ in range(args.repeats):
            for jobs in (-1, 1):
                pipe = build_pipeline(
                    schema,
                    learner,
                    "none",
                    42,
                    1.0,
                    params={**params, "n_jobs": jobs},
                    derived=derived,
                )
                wall, cpu = time.perf_counter(), time.process_time()
                fit_quietly(pipe, X, y)
                times[jobs].append((time.perf_counter() - wall, time.process_time() - cpu))
        for jobs, label in ((1, "1 thread"), (-1, "all cores")):
            walls = ", ".join(f"{w:.2f}" for w, _ in times[jobs])
            cpus = ", ".join(f"{c:.2f}" for _, c in times[jobs])
            print(f"{learner:9s} {label:9s}: wall s {walls}; CPU s {cpus}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
