"""`python -m train`: search learners x imbalance strategies on a CSV."""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from pathlib import Path

from train.data import UsageError

PRESETS = {
    # The default: strong, fast learners, tuned within --budget (default 120 s).
    "quick": (["lightgbm", "xgboost", "logreg"], ["none", "class_weight", "smote"]),
    # Every default learner x every strategy (give it a larger --budget).
    "full": (None, None),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, like every other usage error
        raise UsageError(message)


# Serving-cost limit in onnxruntime µs per row of a batch. `make bench` met the
# API's p50 target (<= 150 µs) with a LightGBM graph of 4 µs/row and missed it
# (465 µs) with a six-member ensemble of 31 µs/row; single boosters on the
# reference data cost 1-8 µs/row.
MAX_US_PER_ROW = 20.0


def _delimiter(text: str) -> str:
    value = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(
        text.lower(), text
    )
    if len(value) != 1 or value in '"\r\n':
        raise argparse.ArgumentTypeError(f"expected one character or 'tab', got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from train.leaderboard import SELECTION_METRICS

    p = _Parser(
        prog="python -m train",
        description="Find the best honestly-evaluated classifier for an imbalanced yes/no "
        "target in a CSV and write a run folder for `python -m export`.",
    )
    p.add_argument("--data", required=True, help="CSV path or s3://bucket/key (gzip is fine)")
    p.add_argument(
        "--delimiter",
        type=_delimiter,
        help="field separator: ',', ';', tab or '|' (default: detected from the header)",
    )
    p.add_argument("--target", required=True, help="name of the yes/no column")
    p.add_argument("--positive", help="the target value to predict (default: the minority class)")
    p.add_argument(
        "--drop",
        action="append",
        default=[],
        metavar="COL",
        help="column to ignore, e.g. an identifier (repeatable)",
    )
    p.add_argument(
        "--keep",
        action="append",
        default=[],
        metavar="COL",
        help="keep a column that looks like an identifier (repeatable)",
    )
    p.add_argument(
        "--numeric",
        action="append",
        default=[],
        metavar="COL",
        help="force a column to be numeric (repeatable)",
    )
    p.add_argument(
        "--categorical",
        action="append",
        default=[],
        metavar="COL",
        help="force a column to be categorical, e.g. a numeric code (repeatable)",
    )
    p.add_argument(
        "--date",
        action="append",
        default=[],
        metavar="COL[=FORMAT]",
        help="read a column as dates, in FORMAT (e.g. %%d/%%m/%%Y, %%Y-%%m, iso8601, epoch for "
        "seconds) or detected; needed when day and month cannot be told apart (repeatable)",
    )
    p.add_argument(
        "--dedupe",
        action="store_true",
        help="remove exact duplicate rows before the split",
    )
    p.add_argument(
        "--sum",
        action="append",
        default=[],
        metavar="NAME=COL+COL",
        help="add a feature that is the sum of numeric columns (repeatable); "
        "it is computed inside the model, so callers still send raw columns",
    )
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="quick",
        help="candidate set when --models/--samplers are not given (default: quick)",
    )
    p.add_argument("--models", help="comma-separated learners, e.g. logreg,xgboost,keras")
    p.add_argument("--samplers", help="comma-separated strategies, e.g. none,smote")
    p.add_argument(
        "--metric",
        default="pr_auc",
        choices=SELECTION_METRICS,
        help="CV metric that picks the winner (default: pr_auc)",
    )
    p.add_argument(
        "--threshold-objective",
        default="f1",
        help="f1 (default), min_precision=P, min_recall=R or cost=FN_TO_FP_RATIO",
    )
    p.add_argument(
        "--calibration",
        choices=["auto", "on", "off"],
        default="auto",
        help="Platt calibration; auto = when the winner resamples or reweights",
    )
    p.add_argument(
        "--budget",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="seconds of search (default: 120); the refit and report come on top",
    )
    p.add_argument(
        "--trials",
        type=int,
        metavar="N",
        help="run exactly N trials instead of a time budget: the same search every time",
    )
    p.add_argument(
        "--prefer-fast",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="pick the cheapest model to serve within one standard error of the best CV "
        "score (default: on)",
    )
    p.add_argument(
        "--ensemble",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="try a weighted ensemble of the best trials, kept only when clearly better "
        "(default: on)",
    )
    p.add_argument(
        "--auto-features",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="let the search try derived features: sums of related columns, missing and "
        "sentinel-value indicators (default: on)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="threads per fit of XGBoost, LightGBM and the random forest (-1: all cores; "
        "default 1: on a shared machine, threads that wait for a busy core make fits "
        "many times slower)",
    )
    p.add_argument(
        "--max-us-per-row",
        type=float,
        default=MAX_US_PER_ROW,
        help="pass over candidates whose graph takes longer than this per row on onnxruntime "
        f"while another is within it (default {MAX_US_PER_ROW:g}: graphs well above it, such "
        "as large ensembles, miss the API's latency target; 0: no limit)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="CV folds fitted side by side on threads (default: the cores this process may "
        "use, divided by --jobs)",
    )
    p.add_argument("--folds", type=int, default=5, help="CV folds (default: 5)")
    p.add_argument("--test-size", type=float, default=0.2, help="held-out fraction (default 0.2)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    p.add_argument("--out", default="artifacts", help="run folder to write (default: artifacts)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-report", action="store_true", help="skip report.html / report.md")
    return p


def _names(text: str | None, known: list[str], flag: str) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError(f"{flag} is empty")
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"unknown {flag[2:-1]} {unknown[0]!r}; choose from {', '.join(known)}")
    return list(dict.fromkeys(names))


def default_workers(jobs: int) -> int:
    """Folds side by side: every core this process may use, each fit on `jobs` threads."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    per_fit = cores if jobs == -1 else jobs
    return max(1, (cores or 1) // max(per_fit, 1))


def _check_out(out: Path) -> None:
    from train.artifacts import RUN_FILE

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, expected a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / RUN_FILE).exists():
        raise UsageError(
            f"--out {out} is a non-empty folder that is not a run folder; "
            "choose a new or empty folder"
        )


WIDE = 24  # the candidate column: learner/strategy#trial


def format_leaderboard(rows: list[dict], metric: str) -> str:
    cols = (
        [("candidate", "name"), ("strategy", "strategy")]
        + [(m, m) for m in ("pr_auc", "roc_auc", "f1", "precision", "recall", "mcc", "brier")]
        + [("fit_s", "fit_seconds")]
    )
    lines = []
    header = ["  "] + [
        f"{name:<{WIDE if i == 0 else 13}}" if i < 2 else f"{name:>14}"
        for i, (name, _) in enumerate(cols)
    ]
    header.append(f"{'us/row':>10}")
    header.append(f"{'us/record':>10}")
    lines.append(" ".join(header))
    for row in rows:
        mark = "* " if row["selected"] else "  "
        cells = [mark, f"{row['name']:<{WIDE}}", f"{row['strategy']:<13}"]
        if row["error"]:
            cells.append(f"failed: {row['error'][:80]}")
        else:
            for _, key in cols[2:-1]:
                mean, std = row[f"{key}_mean"], row[f"{key}_std"]
                cells.append(f"{mean:>7.3f} ±{std:5.3f}" if not math.isnan(mean) else f"{'-':>14}")
            cells.append(f"{row['fit_seconds']:>14.1f}")
            us = row.get("us_per_row", float("nan"))
            cells.append(f"{us:>10.2f}" if not math.isnan(us) else f"{'-':>10}")
            us = row.get("us_per_record", float("nan"))
            cells.append(f"{us:>10.1f}" if not math.isnan(us) else f"{'-':>10}")
        lines.append(" ".join(cells))
    lines.append(
        f"(CV mean ± std over folds, each pair's best trial; * = selected by {metric}; "
        "us/row = onnxruntime µs per row in a batch, us/record = for one record alone)"
    )
    return "\n".join(lines)


def run(argv: list[str]) -> int:
    started = time.perf_counter()
    args = build_parser().parse_args(argv)

    from train.models import DEFAULT_LEARNERS, LEARNERS
    from train.samplers import STRATEGIES

    preset_learners, preset_strategies = PRESETS[args.preset]
    learners = (
        _names(args.models, list(LEARNERS), "--models") or preset_learners or list(DEFAULT_LEARNERS)
    )
    strategies = (
        _names(args.samplers, STRATEGIES, "--samplers") or preset_strategies or list(STRATEGIES)
    )
    if args.trials is not None and args.trials < 1:
        raise UsageError("--trials must be at least 1")
    if not (args.budget > 0 and math.isfinite(args.budget)):
        raise UsageError("--budget must be a positive number of seconds")
    if args.jobs == 0 or args.jobs < -1:
        raise UsageError("--jobs must be a positive number of threads, or -1 for all cores")
    if args.max_us_per_row < 0:
        raise UsageError("--max-us-per-row must be a positive number of microseconds, or 0")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be a positive number of threads")
    if args.folds < 2:
        raise UsageError("--folds must be at least 2")
    if not 0.05 <= args.test_size <= 0.5:
        raise UsageError("--test-size must be between 0.05 and 0.5")
    out = Path(args.out)
    _check_out(out)

    from train import evaluate
    from train.column_kinds import describe, parse_date_flag
    from train.data import load_dataset

    objective = evaluate.ThresholdObjective.parse(args.threshold_objective)
    dataset = load_dataset(
        args.data,
        args.target,
        positive=args.positive,
        drop=tuple(args.drop),
        keep=tuple(args.keep),
        numeric=tuple(args.numeric),
        categorical=tuple(args.categorical),
        dedupe=args.dedupe,
        delimiter=args.delimiter,
        dates=dict(parse_date_flag(text) for text in args.date),
    )
    schema = dataset.schema
    from train.features import parse_sum

    sums: list[tuple[str, tuple[str, ...]]] = []
    for text in args.sum:
        sums.append(parse_sum(text, schema.numeric, schema.names + [n for n, _ in sums]))
    pos_rate = dataset.y.mean()
    chosen = "--positive" if args.positive else "the minority class (default)"
    print(
        f"data: {args.data}  rows={len(dataset.y)}  features={len(schema.features)} "
        f"({len(schema.numeric)} numeric, {len(schema.categorical)} categorical)\n"
        f"target: {args.target}  positive={schema.positive_label!r} ({chosen}), "
        f"rate {pos_rate:.1%}"
    )
    for f in schema.features:
        if f.format:
            print(f"  {describe(f)}")
    for note in dataset.notes:
        print(f"warning: {note}", file=sys.stderr)

    from train.artifacts import leaderboard_rows, write_run
    from train.encoding import describe as describe_encodings
    from train.search import SearchConfig, run_search

    config = SearchConfig(
        learners=learners,
        strategies=strategies,
        folds=args.folds,
        seed=args.seed,
        test_size=args.test_size,
        metric=args.metric,
        objective=objective,
        calibration=args.calibration,
        sums=tuple(sums),
        budget=args.budget,
        trials=args.trials,
        auto_features=args.auto_features,
        ensemble=args.ensemble,
        prefer_fast=args.prefer_fast,
        jobs=args.jobs,
        workers=args.workers or default_workers(args.jobs),
        max_us_per_row=args.max_us_per_row or None,
    )
    progress_factory = None
    if not args.no_progress:
        from tqdm import tqdm

        unit = "trial" if args.trials is not None else "s"

        def progress_factory(total):
            return tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True)

    result = run_search(dataset, config, progress_factory)
    command = ["python", "-m", "train", *argv]
    extra = None
    if not args.no_report:
        from train import report

        def extra(folder, info):
            report.write(folder, dataset, result, config, command, info)

    metrics = write_run(
        out,
        result,
        dataset,
        config,
        command,
        elapsed_seconds=time.perf_counter() - started,
        extra=extra,
    )
    print()
    print(format_leaderboard(leaderboard_rows(result, config.metric), config.metric))
    for line in describe_encodings(result.model.schema):  # train/encoding.py
        print(f"encoding: {line}")
    cal = result.calibration_report
    cal_text = (
        f"calibrated (Brier on test {cal['test_brier_uncalibrated']:.4f} -> {cal['test_brier']:.4f})"
        if cal["applied"]
        else "not calibrated"
    )
    sel = metrics["selection"]
    n_trials = metrics["trials"]
    print(
        f"\nsearch: {n_trials} trials ({metrics['trials_complete']} complete, "
        f"{metrics['trials_pruned']} pruned, {metrics['trials_failed']} failed) in "
        f"{metrics['search_seconds']:.0f} s; picked {sel['picked']}: {sel['reason']}"
    )
    if result.model.members:
        print("ensemble: " + ", ".join(f"{m.name} x{m.weight:.2f}" for m in result.model.members))
    print(
        f"selected: {metrics['model']} + {metrics['sampler']}, threshold "
        f"{metrics['threshold']:.4f} ({metrics['threshold_objective']}), {cal_text}\n"
        f"test split ({metrics['n_test']} rows, evaluated once): ROC AUC {metrics['roc_auc']:.3f}"
        f"  PR AUC {metrics['pr_auc']:.3f}  F1 {metrics['f1']:.3f}  precision "
        f"{metrics['precision']:.3f}  recall {metrics['recall']:.3f}  MCC {metrics['mcc']:.3f}\n"
        f"wrote {out}/" + ("" if args.no_report else f" (report: {out}/report.html)")
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130
