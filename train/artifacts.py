"""The run folder: everything export needs, written all at once or not at all."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import joblib

from train import leaderboard, metrics
from train.search import SearchResult

# Bump when the run folder's layout or the pickled classes (train/trained.py)
# change incompatibly; export refuses folders of any other format.
RUN_FORMAT = 2
MODEL_FILE = "model.joblib"
HOLDOUT_FILE = "holdout.joblib"
RUN_FILE = "run.json"
SCHEMA_FILE = "schema.json"
METRICS_FILE = "metrics.json"
LEADERBOARD_FILE = "leaderboard.csv"
TRIALS_FILE = "trials.csv"
ENSEMBLE_FILE = "ensemble.json"
TRIAL_COLUMNS = [
    "trial",
    "rows",
    "elapsed_seconds",
    "learner",
    "sampler",
    "score",
    "best_so_far",
    "state",
    "params",
]
TRACKED_PACKAGES = [
    "numpy",
    "pandas",
    "scikit-learn",
    "imbalanced-learn",
    "xgboost-cpu",
    "lightgbm",
    "optuna",
    "tensorflow-cpu",
    "keras",
]


def package_versions(names=TRACKED_PACKAGES) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def leaderboard_rows(result: SearchResult, metric: str) -> list[dict]:
    """One row per candidate (each pair's best trial, and the ensemble), best
    first by `metric` as train.leaderboard ranks; failed candidates last."""
    rows = []
    candidates = list(result.candidates)
    ens = result.ensemble_candidate
    if ens is not None and all(ens is not c for c in candidates):
        candidates.append(ens)
    candidates += result.lower_rungs
    for c in candidates:
        row = {"learner": c.learner, "strategy": c.strategy, "selected": c is result.winner}
        for m in metrics.LEADERBOARD:
            row[f"{m}_mean"] = c.mean(m)
            row[f"{m}_std"] = c.std(m)
        row["threshold"] = c.threshold
        row["fit_seconds"] = c.fit_seconds
        row["error"] = c.error or ""
        row["name"] = c.name
        row["trial"] = "" if c.trial is None else c.trial
        # Scores compare only at equal rows (search on samples, train.search.schedule).
        row["rows"] = c.rows
        row[f"{metric}_se"] = c.se(metric) if c.folds else float("nan")
        row["onnx_bytes"] = c.onnx_bytes
        row["us_per_row"] = c.us_per_row
        row["us_per_record"] = c.us_per_record
        row["features"] = "" if c.members is not None else c.features
        row["rounds"] = "" if c.rounds is None else c.rounds
        row["params"] = (
            json.dumps({m.name: round(w, 4) for m, w in c.members})
            if c.members is not None
            else json.dumps(c.params, sort_keys=True, default=float)
        )
        rows.append(row)
    ok = [r for r in rows if not r["error"]]
    failed = [r for r in rows if r["error"]]
    if ok:
        import pandas as pd

        ranked = leaderboard.rank(pd.DataFrame(ok), metric)
        ok = [ok[i] for i in ranked.index]
        ok.sort(key=lambda r: -r["rows"])  # stable: best first within each sample size
    return ok + failed


def metrics_document(result: SearchResult, dataset, config) -> dict:
    """metrics.json: the test split's metrics, the selection and the search's counts."""
    model = result.model
    m = result.test_metrics
    doc = {
        "model": model.learner,
        "sampler": model.strategy,
        "threshold": model.threshold,
        "threshold_objective": str(config.objective),
        "selection_metric": config.metric,
        "cv_score": result.winner.mean(config.metric),
        **{k: m[k] for k in metrics.BY_NAME},
        "n_train": result.n_train,
        "n_test": int(len(result.y_test)),
        "positive_rate": float(result.y_test.mean()),
        "positive_label": model.schema.positive_label,
        "negative_label": model.schema.negative_label,
        "per_class": m["per_class"],
        "calibration": result.calibration_report,
        "ensemble": bool(result.model.members),
        "selection": result.selection,
        "trials": len(result.trials),
        "trials_complete": sum(c.state == "complete" for c in result.trials),
        "trials_pruned": sum(c.state == "pruned" for c in result.trials),
        "trials_failed": sum(c.state == "failed" for c in result.trials),
        "search_seconds": result.search_seconds,
        "derived_candidates": result.derived.describe(),
        "derived_used": result.winner.features
        if result.winner.members is None
        else sorted({m.features for m, _ in result.winner.members}),
    }
    return doc


def _json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, default=float) + "\n")


def _run_info(result, dataset, config, command: list[str], elapsed_seconds) -> dict:
    """run.json: how the run was made, from what data, and what it picked."""
    return {
        "run_format": RUN_FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "data": {
            "source": dataset.source,
            "sha256": dataset.sha256,
            "rows": int(len(dataset.y)),
            "notes": dataset.notes,
        },
        "learner": result.model.learner,
        "strategy": result.model.strategy,
        "threshold": result.model.threshold,
        "seed": config.seed,
        "elapsed_seconds": elapsed_seconds,
        "folds": config.folds,
        "learners_searched": config.learners,
        "strategies_searched": config.strategies,
        "budget_seconds": None if config.trials is not None else config.budget,
        "trials_requested": config.trials,
        "study": None
        if config.storage is None
        else {
            "storage": re.sub(r"//[^/@]*@", "//", config.storage),  # no credentials
            "name": config.study,
            "trial": result.winner.trial,
        },
        "search_rows": result.rungs,  # each sample's rows; one entry: all rows
        "refit": {
            "rows": result.n_train,
            "predicted_seconds": result.refit_predicted_seconds,
            "seconds": result.refit_seconds,
        },
        "phase_seconds": {k: round(v, 2) for k, v in result.phase_seconds.items()},
        "packages": package_versions(),
    }


def write_run(
    out: Path,
    result: SearchResult,
    dataset,
    config,
    command: list[str],
    elapsed_seconds=None,
    extra=None,
) -> dict:
    """Write into a sibling temp folder, then swap it into place;
    extra(folder, run_info) may add files (the report) before the swap."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        joblib.dump(result.model, tmp / MODEL_FILE)
        joblib.dump({"X": result.X_test, "y": result.y_test}, tmp / HOLDOUT_FILE)
        (tmp / SCHEMA_FILE).write_text(result.model.schema.to_json() + "\n")
        doc = metrics_document(result, dataset, config)
        _json(tmp / METRICS_FILE, doc)
        rows = leaderboard_rows(result, config.metric)
        with open(tmp / LEADERBOARD_FILE, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        with open(tmp / TRIALS_FILE, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=TRIAL_COLUMNS)
            writer.writeheader()
            writer.writerows(trial_rows(result, config.metric))
        if result.ensemble is not None:
            _json(tmp / ENSEMBLE_FILE, result.ensemble)
        run_info = _run_info(result, dataset, config, command, elapsed_seconds)
        if extra is not None:
            started = time.perf_counter()
            extra(tmp, run_info)
            run_info["report_seconds"] = time.perf_counter() - started
        _json(tmp / RUN_FILE, run_info)
        if out.exists():
            old = out.with_name(f".{out.name}-old-{os.getpid()}")
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return doc


def trial_rows(result: SearchResult, metric: str) -> list[dict]:
    """trials.csv: the search trajectory, one row per trial."""
    rows, bests = [], {}  # the best so far on each sample size
    for c in result.trials:
        score = c.mean(metric)
        best = bests.get(c.rows, float("nan"))
        if c.state == "complete" and metrics.is_better(score, best, metric):
            best = bests[c.rows] = score
        params = dict(c.params)
        params["features"] = c.features
        if c.rounds is not None:
            params["rounds"] = c.rounds
        rows.append(
            {
                "trial": c.trial,
                "rows": c.rows,
                "elapsed_seconds": round(c.elapsed_seconds, 3),
                "learner": c.learner,
                "sampler": c.strategy,
                "score": score,
                "best_so_far": best,
                "state": c.state,
                "params": json.dumps(params, sort_keys=True, default=float),
            }
        )
    return rows
