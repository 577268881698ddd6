"""Shared fixtures: small generated datasets and paths to the real ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def make_frame(n: int = 600, positive_rate: float = 0.12, seed: int = 0) -> pd.DataFrame:
    """Mixed numeric/categorical data with missing values and a learnable rare class."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 90, n).astype(float)
    balance = rng.normal(1500, 3000, n).round(2)
    calls = rng.poisson(2, n).astype(float)
    plan = rng.choice(["basic", "plus", "premium"], n, p=[0.6, 0.3, 0.1])
    region = rng.choice(["north", "south", "east", "west"], n)
    score = 0.04 * (age - 50) + 0.8 * (plan == "premium") + 0.6 * calls - 1.2 * (region == "east")
    cutoff = np.quantile(score, 1 - positive_rate)
    noisy = score + rng.normal(0, 0.3, n)
    target = np.where(noisy >= cutoff, "yes", "no")
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(n)],
            "age": age,
            "balance": balance,
            "calls": calls,
            "plan": plan,
            "region": region,
            "y": target,
        }
    )
    frame.loc[rng.random(n) < 0.03, "age"] = np.nan
    frame.loc[rng.random(n) < 0.03, "plan"] = np.nan
    return frame


@pytest.fixture
def frame() -> pd.DataFrame:
    return make_frame()


@pytest.fixture
def csv_path(tmp_path, frame) -> Path:
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    return path


def shared_csv(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path


# Tests run a fixed number of search trials, not the 120 s default budget;
# a later --trials in a test's own arguments wins (argparse keeps the last).
TEST_TRIALS = ("--trials", "2")


def run_train_cli(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    """`python -m train` in a subprocess, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "train", "--no-progress", *TEST_TRIALS, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=900,
    )


def train_and_export(data, run, *options: str):
    """A real training run on `data` into `run`, then export; both must succeed."""
    from export.cli import run as export_run
    from train.cli import run as train_run

    args = [
        "--data",
        str(data),
        "--target",
        "y",
        "--out",
        str(run),
        "--no-progress",
        "--trials",
        "1",
    ]
    assert train_run([*args, "--no-report", *options]) == 0
    assert export_run(["--run", str(run)]) == 0
    return run


@pytest.fixture(scope="session")
def model_path(tmp_path_factory):
    """Train (xgboost + class weights, so calibrated) and export on generated data."""
    folder = tmp_path_factory.mktemp("model")
    data = folder / "customers.csv"
    make_frame(n=800, seed=3).to_csv(data, index=False)
    run = train_and_export(
        data,
        folder / "run",
        "--models",
        "xgboost",
        "--samplers",
        "class_weight",
        "--folds",
        "3",
        "--sum",
        "age_calls=age+calls",
    )
    return run / "model.onnx"
