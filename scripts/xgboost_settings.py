"""Why the XGBoost learner defaults to 1000 trees of depth 4 at learning rate 0.02.

    python scripts/xgboost_settings.py --data data/marketing_data.csv --target y \
        --positive yes --markdown docs/xgboost-settings.md   (this is `make xgboost-settings`)

Five settings, each cross-validated (5 stratified folds, seed 42) on the same
train split `python -m train` makes, with the same preprocessing and no
resampling. The test split is never read. Besides the CV scores the table
gives what a setting costs to serve: the number of trees and the tree nodes a
row visits on average, which is what onnxruntime's tree kernel spends its
time on (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from train import evaluate  # noqa: E402
from train.data import load_dataset  # noqa: E402
from train.search import SearchConfig, build_pipeline, train_schema  # noqa: E402

SETTINGS = {
    "300 trees, depth 6, lr 0.05": {"n_estimators": 300, "max_depth": 6, "learning_rate": 0.05},
    "200 trees, depth 6, lr 0.1": {"n_estimators": 200, "max_depth": 6, "learning_rate": 0.1},
    "600 trees, depth 3, lr 0.05": {"n_estimators": 600, "max_depth": 3, "learning_rate": 0.05},
    "400 trees, depth 4, lr 0.05": {"n_estimators": 400, "max_depth": 4, "learning_rate": 0.05},
    "1000 trees, depth 4, lr 0.02 (default)": {},
}


def node_visits(booster, X: np.ndarray, rows: int = 2000) -> float:
    """Mean number of split nodes a row passes through, summed over the trees."""
    import xgboost

    frame = booster.trees_to_dataframe()
    splits = frame[frame.Feature != "Leaf"]
    parent = {
        child: node
        for node, *children in splits[["ID", "Yes", "No"]].itertuples(index=False)
        for child in children
    }

    def depth(node: str) -> int:
        n = 0
        while node in parent:
            node, n = parent[node], n + 1
        return n

    leaves = frame[frame.Feature == "Leaf"]
    depth_of = {
        (t, n): depth(i) for t, n, i in leaves[["Tree", "Node", "ID"]].itertuples(index=False)
    }
    reached = booster.predict(xgboost.DMatrix(X[:rows]), pred_leaf=True).astype(int)
    return float(np.mean([sum(depth_of[(t, leaf)] for t, leaf in enumerate(r)) for r in reached]))


def run(data: str, target: str, positive: str | None, folds: int, seed: int) -> list[dict]:
    dataset = load_dataset(data, target, positive)
    config = SearchConfig(learners=["xgboost"], strategies=["none"], folds=folds, seed=seed)
    X_train, _, y_train, _ = train_test_split(
        dataset.X, dataset.y, test_size=config.test_size, stratify=dataset.y, random_state=seed
    )
    X_train = X_train.reset_index(drop=True)
    schema = train_schema(dataset.schema, X_train)
    ratio = float((y_train == 0).sum()) / max(int(y_train.sum()), 1)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    rows = []
    for name, params in SETTINGS.items():
        scores: dict[str, list[float]] = {"roc_auc": [], "pr_auc": []}
        started = time.perf_counter()
        for fit_idx, val_idx in cv.split(X_train, y_train):
            pipe = build_pipeline(schema, "xgboost", "none", seed, ratio)
            pipe.set_params(**{f"model__{k}": v for k, v in params.items()})
            pipe.fit(X_train.iloc[fit_idx], y_train[fit_idx])
            p = pipe.predict_proba(X_train.iloc[val_idx])[:, 1]
            metrics = evaluate.ranking_metrics(y_train[val_idx], p)
            for key in scores:
                scores[key].append(metrics[key])
        seconds = (time.perf_counter() - started) / folds
        booster = pipe.named_steps["model"].get_booster()
        encoded = pipe[:-1].transform(X_train.iloc[val_idx])
        rows.append(
            {
                "setting": name,
                "trees": booster.num_boosted_rounds(),
                "node_visits": node_visits(booster, encoded),
                "fit_seconds": seconds,
                **{f"{k}_mean": statistics.mean(v) for k, v in scores.items()},
                **{f"{k}_std": statistics.stdev(v) for k, v in scores.items()},
            }
        )
        print(f"{name}: PR AUC {rows[-1]['pr_auc_mean']:.4f}", file=sys.stderr)
    return rows


def markdown(rows: list[dict], command: str, folds: int) -> str:
    best_pr = max(rows, key=lambda r: r["pr_auc_mean"])
    best_roc = max(rows, key=lambda r: r["roc_auc_mean"])
    lines = [
        "# XGBoost settings",
        "",
        f"Produced by `{command}`",
        "(`make xgboost-settings`). Each setting is cross-validated "
        f"({folds} stratified folds, seed 42)",
        "on the train split that `python -m train` makes, with the same",
        "preprocessing and no resampling; the test split is not read. Scores are",
        "mean ± standard deviation over the folds. Node visits are the split nodes a",
        "row passes through, summed over all trees (mean over 2,000 rows): what",
        "onnxruntime's tree kernel spends its time on.",
        "",
        "| setting | trees | node visits per row | PR AUC | ROC AUC | fit s per fold |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        marks = [
            m for m, best in (("best PR AUC", best_pr), ("best ROC AUC", best_roc)) if r is best
        ]
        mark = f" **{', '.join(marks)}**" if marks else ""
        lines.append(
            f"| {r['setting']}{mark} | {r['trees']} | {r['node_visits']:,.0f} "
            f"| {r['pr_auc_mean']:.4f} ± {r['pr_auc_std']:.4f} "
            f"| {r['roc_auc_mean']:.4f} ± {r['roc_auc_std']:.4f} | {r['fit_seconds']:.1f} |"
        )
    standard_error = best_pr["pr_auc_std"] / folds**0.5
    close = [r for r in rows if best_pr["pr_auc_mean"] - r["pr_auc_mean"] <= standard_error]
    cheapest = min(close, key=lambda r: r["node_visits"])
    default = rows[-1]
    lines += [
        "",
        f"Within one standard error ({standard_error:.4f}) of the best mean PR AUC, the "
        f"selection metric: {len(close)} of {len(rows)} settings.",
        f"The cheapest of them to serve is {cheapest['setting']} "
        f"({cheapest['node_visits']:,.0f} node visits per row);",
        f"the default visits {default['node_visits'] / cheapest['node_visits']:.1f}× as many "
        "nodes per row.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="cross-validate five XGBoost settings")
    p.add_argument("--data", default=str(ROOT / "data" / "marketing_data.csv"))
    p.add_argument("--target", default="y")
    p.add_argument("--positive", default="yes")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--markdown", help="write the table here")
    args = p.parse_args(argv)
    rows = run(args.data, args.target, args.positive, args.folds, args.seed)
    command = "python scripts/xgboost_settings.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    report = markdown(rows, command, args.folds)
    print(report)
    if args.markdown:
        Path(args.markdown).write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
