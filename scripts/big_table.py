"""Write a large campaign-response table with a known signal, for the
big-table measurements (`make results-big`, docs/training.md).

The positive class follows a fixed logistic model of six numeric and four
categorical columns plus one interaction, so the best reachable ROC AUC is
known from the generator itself; a continuous `balance` with cents makes
every row distinct.

    python scripts/big_table.py --rows 1000000 --out runs/big/big-1m.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

JOBS = ["admin", "blue-collar", "technician", "services", "management", "retired", "student"]
REGIONS = [f"region-{i:02d}" for i in range(40)]
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
CHUNK = 1_000_000  # rows generated and written at a time, so memory stays bounded


def chunk(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    age = rng.integers(18, 90, n)
    balance = np.round(rng.lognormal(7.0, 1.2, n) - 300.0, 2)
    day = rng.integers(1, 32, n)
    campaign = rng.geometric(0.35, n)
    pdays = np.where(rng.random(n) < 0.8, -1, rng.integers(1, 400, n))
    previous = rng.poisson(0.4, n)
    job = rng.choice(len(JOBS), n, p=[0.2, 0.22, 0.17, 0.1, 0.2, 0.06, 0.05])
    region = rng.integers(0, len(REGIONS), n)
    month = rng.integers(0, 12, n)
    housing = rng.random(n) < 0.55
    region_effect = np.sin(np.arange(len(REGIONS)) * 1.7) * 0.6
    month_effect = np.array([0.3, 0.1, 0.9, 0.4, -0.6, -0.2, -0.4, -0.1, 0.8, 0.9, -0.2, 0.7])
    job_effect = np.array([0.0, -0.4, -0.1, -0.3, 0.2, 0.7, 0.9])
    logit = (
        -4.2
        + 0.012 * (age - 40) ** 2 / 10
        + 0.00012 * np.clip(balance, -2000, 20000)
        - 0.18 * (campaign - 1)
        + 1.1 * (pdays > 0)
        + 0.25 * np.minimum(previous, 4)
        + job_effect[job]
        + region_effect[region]
        + month_effect[month]
        - 0.5 * housing
        + 0.6 * ((job == 6) & (month >= 8))
    )
    y = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    frame = pd.DataFrame(
        {
            "age": age,
            "balance": balance,
            "day": day,
            "campaign": campaign,
            "pdays": pdays,
            "previous": previous,
            "job": np.array(JOBS)[job],
            "region": np.array(REGIONS)[region],
            "month": np.array(MONTHS)[month],
            "housing": np.where(housing, "yes", "no"),
            "y": np.where(y, "yes", "no"),
        }
    )
    return frame, 1.0 / (1.0 + np.exp(-logit))


def write(rows: int, out: Path, seed: int) -> float:
    """Write the table; returns the ROC AUC of the true probabilities (the ceiling)."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".partial")
    truths, labels = [], []
    with open(tmp, "w", newline="") as fh:
        done = 0
        while done < rows:
            n = min(CHUNK, rows - done)
            frame, p = chunk(rng, n)
            frame.to_csv(fh, index=False, header=done == 0)
            truths.append(p[:200_000])
            labels.append(frame["y"].to_numpy()[:200_000] == "yes")
            done += n
    tmp.replace(out)
    return float(roc_auc_score(np.concatenate(labels), np.concatenate(truths)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.rows < 100:
        parser.error("--rows must be at least 100")
    ceiling = write(args.rows, args.out, args.seed)
    print(f"{args.out}: {args.rows:,} rows; ROC AUC of the true probabilities {ceiling:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
