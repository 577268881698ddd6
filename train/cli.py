"""`python -m train`: search learners x imbalance strategies on a CSV."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import replace
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


# Serving-cost limit in onnxruntime µs per row of a batch: single boosters on
# the reference data stay well within it, while large ensembles, which miss
# the API's latency target in `make bench`, do not.
MAX_US_PER_ROW = 20.0


def _delimiter(text: str) -> str:
    value = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(
        text.lower(), text
    )
    if len(value) != 1 or value in '"\r\n':
        raise argparse.ArgumentTypeError(f"expected one character or 'tab', got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m train",
        description="Find the best honestly-evaluated classifier for an imbalanced yes/no "
        "target in a CSV and write a run folder for `python -m export`.",
    )
    _data_arguments(p)
    _search_arguments(p)
    _run_arguments(p)
    return p


def _data_arguments(p: argparse.ArgumentParser) -> None:
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


def _search_arguments(p: argparse.ArgumentParser) -> None:
    from train.metrics import DEFAULT, SELECTION

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
        default=DEFAULT,
        choices=SELECTION,
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


def _run_arguments(p: argparse.ArgumentParser) -> None:
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
    p.add_argument(
        "--storage",
        help="Optuna storage shared by several processes: postgresql://..., sqlite:///file.db "
        "or a journal file (journal:///path or a path); with --study (docs/training.md)",
    )
    p.add_argument("--study", help="the shared study's name (created by the first worker)")
    p.add_argument(
        "--finalize",
        action="store_true",
        help="with --storage: refit the study's best trial and write the run folder (no "
        "search); without it a worker only searches",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-report", action="store_true", help="skip report.html / report.md")


def _names(text: str | None, flag: str) -> list[str] | None:
    """A comma-separated list, once each (SearchConfig checks the names)."""
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError(f"{flag} is empty")
    return list(dict.fromkeys(names))


def default_workers(jobs: int) -> int:
    """Folds side by side: every core this process may use, each fit on `jobs` threads."""
    from contract.machine import vcpus

    cores = vcpus()
    per_fit = cores if jobs == -1 else jobs
    return max(1, cores // max(per_fit, 1))


def _check_out(out: Path) -> None:
    from train.artifacts import RUN_FILE

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, expected a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / RUN_FILE).exists():
        raise UsageError(
            f"--out {out} is a non-empty folder that is not a run folder; "
            "choose a new or empty folder"
        )


def _config(args):
    """The SearchConfig the flags ask for (it checks itself); the threshold
    objective and --sum features are set once the data is read."""
    from train.models import DEFAULT_LEARNERS
    from train.samplers import STRATEGIES
    from train.search import SearchConfig

    preset_learners, preset_strategies = PRESETS[args.preset]
    return SearchConfig(
        learners=_names(args.models, "--models") or preset_learners or list(DEFAULT_LEARNERS),
        strategies=_names(args.samplers, "--samplers") or preset_strategies or list(STRATEGIES),
        folds=args.folds,
        seed=args.seed,
        test_size=args.test_size,
        metric=args.metric,
        calibration=args.calibration,
        budget=args.budget,
        trials=args.trials,
        auto_features=args.auto_features,
        ensemble=args.ensemble,
        prefer_fast=args.prefer_fast,
        jobs=args.jobs,
        workers=args.workers if args.workers is not None else default_workers(args.jobs),
        max_us_per_row=args.max_us_per_row or None,
        storage=args.storage,
        study=args.study,
    )


def _load(args):
    """The dataset and the user's --sum features, with what was read printed."""
    from train.column_kinds import describe, parse_date_flag
    from train.data import load_dataset
    from train.features import parse_sum

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
    sums: list[tuple[str, tuple[str, ...]]] = []
    for text in args.sum:
        sums.append(parse_sum(text, schema.numeric, schema.names + [n for n, _ in sums]))
    chosen = "--positive" if args.positive else "the minority class (default)"
    print(
        f"data: {args.data}  rows={len(dataset.y)}  features={len(schema.features)} "
        f"({len(schema.numeric)} numeric, {len(schema.categorical)} categorical)\n"
        f"target: {args.target}  positive={schema.positive_label!r} ({chosen}), "
        f"rate {dataset.y.mean():.1%}"
    )
    for f in schema.features:
        if f.format:
            print(f"  {describe(f)}")
    for note in dataset.notes:
        print(f"warning: {note}", file=sys.stderr)
    return dataset, tuple(sums)


def _progress_factory(args):
    if args.no_progress:
        return None
    from tqdm import tqdm

    unit = "trial" if args.trials is not None else "s"

    def factory(total):
        return tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True)

    return factory


def run(argv: list[str]) -> int:
    started = time.perf_counter()
    args = build_parser().parse_args(argv)
    config = _config(args)
    out = Path(args.out)
    _check_out(out)

    from train import evaluate

    objective = evaluate.ThresholdObjective.parse(args.threshold_objective)
    dataset, sums = _load(args)
    config = replace(config, objective=objective, sums=sums)

    from train.artifacts import leaderboard_rows, write_run
    from train.printout import format_leaderboard, summary
    from train.search import run_search, shared

    if args.finalize and config.storage is None:
        raise UsageError("--finalize needs --storage and --study")
    if config.storage is not None and not args.finalize:
        print(shared.search_only(dataset, config, _progress_factory(args)))
        return 0
    search = shared.finalize if args.finalize else run_search
    result = search(dataset, config, _progress_factory(args))
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
    from train.encoding import describe as describe_encodings

    for line in describe_encodings(result.model.schema):
        print(f"encoding: {line}")
    print(summary(result, metrics, out, not args.no_report))
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
