"""`python -m train` on a messy CRM table against LightGBM on hand-parsed columns.

`python scripts/messy_compare.py [--rows 20000] [--budget 60] [--out DIR]`

Writes the table of scripts/messy_table.py, trains on it as a user would
(`python -m train --budget B`, then `python -m export`), and fits LightGBM
with default settings on the same training split after parsing the dates
into day numbers, the money into numbers, autopay into 0/1 and city/zip as
LightGBM categoricals. Prints test ROC AUC and PR AUC of both, the wall
times, the graph's onnxruntime µs per row and its parity with the pipeline;
the figures go to DIR/compare.json too.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.messy_table import messy_frame  # noqa: E402

TARGET = "churned"


def hand_parsed(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns as a data scientist would parse them by hand, with pandas."""
    epoch = pd.Timestamp("1970-01-01")
    signup = pd.to_datetime(frame["signup_date"], format="%Y-%m-%d")
    last = pd.to_datetime(frame["last_seen"].replace("", None), format="%d/%m/%Y")
    return pd.DataFrame(
        {
            "signup_days": (signup - epoch).dt.days,
            "last_seen_days": (last - epoch).dt.days,
            "monthly_spend": frame["monthly_spend"]
            .str.replace(r"[$,]", "", regex=True)
            .astype(float),
            "city": frame["city"].astype("category"),
            "zip": frame["zip"].astype("category"),
            "autopay": (frame["autopay"] == "TRUE").astype(int),
            "contract": frame["contract"].str.split().str[0].astype(int),
        }
    )


def baseline(frame: pd.DataFrame, seed: int, test_size: float) -> dict:
    from lightgbm import LGBMClassifier
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.model_selection import train_test_split

    X = hand_parsed(frame)
    y = (frame[TARGET] == "yes").to_numpy().astype(int)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=seed
    )
    started = time.perf_counter()
    model = LGBMClassifier(random_state=seed, verbose=-1, n_jobs=1).fit(X_tr, y_tr)
    p = model.predict_proba(X_te)[:, 1]
    return {
        "roc_auc": float(roc_auc_score(y_te, p)),
        "pr_auc": float(average_precision_score(y_te, p)),
        "fit_seconds": time.perf_counter() - started,
    }


def _timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT)
    return time.perf_counter() - started


def us_per_row(model_path: Path, run: Path, repeats: int = 20) -> float:
    """onnxruntime µs per row for the held-out rows in one batch (best of `repeats`)."""
    import joblib
    import onnxruntime as ort

    from contract.feeds import from_frame

    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    holdout = joblib.load(run / "holdout.joblib")
    model = joblib.load(run / "model.joblib")
    schema = model.schema
    feeds = from_frame(holdout["X"].reset_index(drop=True), schema)
    n = len(holdout["X"])
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        session.run(["probability"], feeds)
        best = min(best, time.perf_counter() - t)
    return best / n * 1e6


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--budget", type=float, default=60.0)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", default="artifacts/messy")
    args = p.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    data = out / "messy.csv"
    frame = messy_frame(args.rows, seed=0)
    frame.to_csv(data, index=False)
    base = baseline(pd.read_csv(data, dtype=str, keep_default_na=False), args.seed, 0.2)
    run = out / "run"
    train_s = _timed(
        [sys.executable, "-m", "train", "--data", str(data), "--target", TARGET, "--budget",
         str(args.budget), "--seed", str(args.seed), "--out", str(run), "--no-progress"]
    )  # fmt: skip
    export_s = _timed([sys.executable, "-m", "export", "--run", str(run)])
    metrics = json.loads((run / "metrics.json").read_text())
    parity = json.loads((run / "parity.json").read_text())
    result = {
        "rows": args.rows,
        "budget": args.budget,
        "train": {"roc_auc": metrics["roc_auc"], "pr_auc": metrics["pr_auc"]},
        "lightgbm_hand_parsed": base,
        "train_wall_seconds": train_s,
        "export_wall_seconds": export_s,
        "us_per_row": us_per_row(run / "model.onnx", run),
        "parity_max_abs_diff": parity["max_abs_diff"],
        "model": f"{metrics['model']} + {metrics['sampler']}",
    }
    (out / "compare.json").write_text(json.dumps(result, indent=2))
    gap = base["roc_auc"] - result["train"]["roc_auc"]
    print(
        f"\nmessy table, {args.rows} rows, test split 20% (seed {args.seed})\n"
        f"{'':34}{'ROC AUC':>9}{'PR AUC':>9}\n"
        f"{'python -m train --budget ' + format(args.budget, 'g'):34}"
        f"{result['train']['roc_auc']:>9.3f}{result['train']['pr_auc']:>9.3f}\n"
        f"{'LightGBM, hand-parsed features':34}{base['roc_auc']:>9.3f}{base['pr_auc']:>9.3f}\n"
        f"ROC AUC gap {gap:+.3f} (bar <= 0.02); train {train_s:.0f} s + export {export_s:.0f} s "
        f"(bar 60 + 90 s); graph {result['us_per_row']:.2f} µs/row (bar 20); parity "
        f"{result['parity_max_abs_diff']:.2e} (bar 1e-5); model {result['model']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
