"""Quality side by side: the project's search against FLAML at the same time
budget, on both reference datasets, scored on the same test rows.

    python scripts/bench_quality.py --budget 120 --telecom ../shared/data/telecom_churn.csv \
        --marketing data/marketing_data.csv --flaml-python .venv-flaml/bin/python \
        --json docs/bench-quality.json --markdown docs/results.md     (this is `make bench-quality`)

- Same rows: the data is loaded with the project's loader (same features, same
  dropped identifier) and split 80/20, stratified, seed 42, exactly as
  `train/search/run.py` splits; the script checks that the project's run holds the
  very same test rows before it compares anything.
- The project: `python -m train --budget B` (without `--budget` where the CLI
  does not have it yet; the output says so), in the main .venv.
- FLAML (.venv-flaml, `scripts/flaml_fit.py`): `AutoML.fit(task="classification",
  time_budget=B, metric=..., seed=42)` on the train part. Its F1 is taken at a
  threshold tuned on out-of-fold probabilities of the train part (its best
  configuration refit on each of 5 stratified folds), never on the test part,
  as the project tunes its own.
- Both tools' ROC AUC, PR AUC and F1 are computed here by `train.evaluate`.
  Wall seconds are each tool's whole process, run one after the other; the
  share of the CPU that other processes took meanwhile is measured from
  /proc/stat and printed, because timings on a shared machine are noisy.

A benchmark: it prints and writes figures, and asserts nothing about them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contract.machine import vcpus  # noqa: E402

DATASETS = {
    "telecom": {"target": "churn", "positive": "True", "drop": ("phone number",)},
    "marketing": {"target": "y", "positive": "yes", "drop": ()},
}
TOOLS = ("project", "flaml")
THRESHOLD_FOLDS = 5
TARGET_COLUMN, FOLD_COLUMN = "__target__", "__fold__"
BEGIN = "<!-- bench-quality:begin (written by scripts/bench_quality.py; edit that, not this) -->"
END = "<!-- bench-quality:end -->"


class BenchError(Exception):
    """Something the benchmark cannot go on without; printed as one line."""


# ---------------------------------------------------------------- the split


def load(path: str, name: str):
    from train.data import UsageError, load_dataset

    spec = DATASETS[name]
    try:
        return load_dataset(path, spec["target"], positive=spec["positive"], drop=spec["drop"])
    except UsageError as exc:
        raise BenchError(f"{name}: {exc}") from exc


def split(dataset, seed: int, test_size: float):
    """The project's split (train/search/run.py): stratified, seeded, reindexed."""
    from sklearn.model_selection import train_test_split

    X_train, X_test, y_train, y_test = train_test_split(
        dataset.X, dataset.y, test_size=test_size, stratify=dataset.y, random_state=seed
    )
    return X_train.reset_index(drop=True), X_test.reset_index(drop=True), y_train, y_test


def threshold_folds(y_train, seed: int):
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    folds = np.zeros(len(y_train), dtype=int)
    cv = StratifiedKFold(n_splits=THRESHOLD_FOLDS, shuffle=True, random_state=seed)
    for k, (_, held) in enumerate(cv.split(np.zeros(len(y_train)), y_train)):
        folds[held] = k
    return folds


def same_test_rows(run: Path, X_test, y_test) -> None:
    """The project's run must have scored exactly the rows FLAML is scored on."""
    import joblib
    import numpy as np

    holdout = joblib.load(run / "holdout.joblib")
    theirs = holdout["X"]
    cols = list(X_test.columns)
    if (
        not set(cols) <= set(theirs.columns)
        or len(theirs) != len(X_test)
        or not np.array_equal(holdout["y"], y_test)
        or list(theirs[cols].columns) != cols
        or not theirs[cols].equals(X_test)
    ):
        raise BenchError(
            f"{run}: the project's test split differs from the one this script made; "
            "train/search/run.py must have changed how it splits"
        )


# ---------------------------------------------------------------- the two tools


def cli_has_budget(python: str) -> bool:
    out = subprocess.run(
        [python, "-m", "train", "--help"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    return "--budget" in out.stdout


def cli_flags(python: str) -> set[str]:
    """Which of --jobs and --workers this checkout's `python -m train` takes."""
    out = subprocess.run(
        [python, "-m", "train", "--help"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    return {flag for flag in ("--jobs", "--workers") if flag in out.stdout}


def project_command(
    python, data, name, out, budget, seed, test_size, has_budget, jobs=None, workers=None
) -> list[str]:
    spec = DATASETS[name]
    cmd = [python, "-m", "train", "--data", str(data), "--target", spec["target"]]
    cmd += ["--positive", spec["positive"]]
    for column in spec["drop"]:
        cmd += ["--drop", column]
    cmd += ["--seed", str(seed), "--test-size", str(test_size), "--out", str(out)]
    cmd += ["--no-progress", "--no-report"]
    if has_budget:
        cmd += ["--budget", f"{budget:g}"]
    if jobs is not None:
        cmd += ["--jobs", str(jobs)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    return cmd


def _run(cmd: list[str], what: str) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise BenchError(f"{what} failed (exit {proc.returncode}): {shlex.join(cmd)}\n{tail}")
    return wall


def write_parts(folder: Path, X_train, y_train, folds, X_test, schema) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    train = X_train.assign(**{TARGET_COLUMN: y_train, FOLD_COLUMN: folds})
    train.to_csv(folder / "train.csv", index=False)
    X_test.to_csv(folder / "test.csv", index=False)
    columns = {
        "numeric": list(schema.numeric),
        "categorical": list(schema.categorical),
        "target": TARGET_COLUMN,
        "fold": FOLD_COLUMN,
    }
    (folder / "columns.json").write_text(json.dumps(columns, indent=2) + "\n")


def score(y_train, oof, y_test, p_test) -> dict:
    """ROC AUC, PR AUC, and F1 at the F1-best threshold on the out-of-fold scores."""
    import numpy as np

    from train import evaluate

    threshold = evaluate.choose_threshold(
        np.asarray(y_train), np.asarray(oof), evaluate.ThresholdObjective("f1")
    )
    y_test, p_test = np.asarray(y_test), np.asarray(p_test)
    ranking = evaluate.ranking_metrics(y_test, p_test)
    return {
        "roc_auc": ranking["roc_auc"],
        "pr_auc": ranking["pr_auc"],
        "f1": evaluate.threshold_metrics(y_test, p_test, threshold)["f1"],
        "threshold": threshold,
    }


# ---------------------------------------------------------------- who else used the CPU


class CpuMeter:
    """CPU time the rest of the machine used while a tool ran, as a share of all cores."""

    def __enter__(self):
        self.busy, self.ours = _busy_seconds(), _our_seconds()
        self.started, self.load = time.perf_counter(), _load()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.started
        busy = _busy_seconds()
        self.cpu_seconds = _our_seconds() - self.ours  # what the tool itself got
        self.others_share = None
        if busy is not None and self.busy is not None and self.wall > 0:
            others = (busy - self.busy) - self.cpu_seconds
            self.others_share = max(0.0, others / (self.wall * (os.cpu_count() or 1)))
        self.load = (self.load, _load())
        return False


def _busy_seconds() -> float | None:
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    busy = sum(values[:8]) - idle  # guest time is already inside user
    return busy / os.sysconf("SC_CLK_TCK")


def _our_seconds() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


# ---------------------------------------------------------------- the table


def markdown_section(doc: dict) -> str:
    """The docs/results.md section for one benchmark document (the JSON this writes)."""
    lines = [
        BEGIN,
        "## The search against FLAML at the same budget (`make bench-quality`)",
        "",
        f"Generated on {doc['date']} by `scripts/bench_quality.py` (which `make "
        "bench-quality` runs, and which also writes docs/bench-quality.json) with this "
        "command; rerun it to reproduce:",
        "",
        "```",
        doc["command"],
        "```",
        "",
        (
            f"Both tools get the same {doc['budget_seconds']:g} s budget, the same features "
            if doc["project_budget_flag"]
            else f"FLAML gets a {doc['budget_seconds']:g} s budget and the project its CLI's "
            "defaults (no `--budget` yet, see below); both get the same features "
        )
        + "(the project's loader, identifier dropped) and the same stratified "
        f"{1 - doc['test_size']:.0%}/{doc['test_size']:.0%} split, seed {doc['seed']}; the "
        "script checks that the project's run scored the very same test rows. Metrics on "
        "that test split, computed by the same code (`train.evaluate`) for both.",
        "",
        "| data | tool | ROC AUC | PR AUC | F1 | wall s | CPU s | other processes' CPU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["rows"]:
        share = r.get("others_cpu_share")
        lines.append(
            f"| {r['dataset']} | {r['tool']} | {r['roc_auc']:.3f} | {r['pr_auc']:.3f} "
            f"| {r['f1']:.3f} | {r['wall_seconds']:.0f} | {r['cpu_seconds']:.0f} | "
            + ("n/a" if share is None else f"{share:.0%}")
            + " |"
        )
    verdicts = verdict_lines(doc["rows"])
    if verdicts:
        lines += ["", *verdicts]
    lines += ["", *[f"- {note}" for note in doc["notes"]], END]
    return "\n".join(lines) + "\n"


def verdict_lines(rows: list[dict]) -> list[str]:
    by = {(r["dataset"], r["tool"]): r for r in rows}
    out = []
    for name in dict.fromkeys(r["dataset"] for r in rows):
        ours, theirs = by.get((name, "project")), by.get((name, "flaml"))
        if ours is None or theirs is None:
            continue
        checks = [
            f"{label} {ours[key]:.3f} vs {theirs[key]:.3f} "
            + ("(at least FLAML's)" if ours[key] >= theirs[key] else "(below FLAML's)")
            for key, label in (("roc_auc", "ROC AUC"), ("pr_auc", "PR AUC"))
        ]
        out.append(f"- **{name}**: the project's " + "; ".join(checks) + ".")
    return out


def replace_section(text: str, section: str) -> str:
    """`text` with its bench-quality section replaced by `section`, or with it appended."""
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: section, text, count=1)
    return text.rstrip("\n") + "\n\n" + section


def read_section(text: str) -> str | None:
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        return None
    return text[start : end + len(END)] + "\n"


# ---------------------------------------------------------------- the run


def bench_dataset(name, path, args, has_budget) -> list[dict]:
    dataset = load(path, name)
    X_train, X_test, y_train, y_test = split(dataset, args.seed, args.test_size)
    where = Path(args.runs) / name
    rows = []
    if "project" in args.tools:
        out = where / "project"
        flags = cli_flags(sys.executable)
        cmd = project_command(
            sys.executable,
            path,
            name,
            out,
            args.budget,
            args.seed,
            args.test_size,
            has_budget,
            args.jobs if "--jobs" in flags else None,
            args.workers if "--workers" in flags else None,
        )
        print(f"{name}: project: {shlex.join(cmd)}", flush=True)
        with CpuMeter() as cpu:
            wall = _run(cmd, f"{name}: python -m train")
        same_test_rows(out, X_test, y_test)
        m = json.loads((out / "metrics.json").read_text())
        rows.append(
            {
                "dataset": name,
                "tool": "project",
                **{k: m[k] for k in ("roc_auc", "pr_auc", "f1", "threshold")},
                "wall_seconds": wall,
                "cpu_seconds": cpu.cpu_seconds,
                "others_cpu_share": cpu.others_share,
                "load_average": cpu.load,
                "detail": {"model": m["model"], "sampler": m["sampler"], "command": cmd},
            }
        )
    if "flaml" in args.tools:
        folder = where / "flaml"
        folds = threshold_folds(y_train, args.seed)
        write_parts(folder, X_train, y_train, folds, X_test, dataset.schema)
        cmd = [args.flaml_python, str(ROOT / "scripts" / "flaml_fit.py"), "--dir", str(folder)]
        cmd += ["--budget", f"{args.budget:g}", "--metric", args.flaml_metric]
        cmd += ["--seed", str(args.seed), "--n-jobs", str(flaml_threads(args))]
        print(f"{name}: FLAML: {shlex.join(cmd)}", flush=True)
        with CpuMeter() as cpu:
            wall = _run(cmd, f"{name}: FLAML")
        pred = json.loads((folder / "flaml_predictions.json").read_text())
        rows.append(
            {
                "dataset": name,
                "tool": "flaml",
                **score(y_train, pred["oof"], y_test, pred["test"]),
                "wall_seconds": wall,
                "cpu_seconds": cpu.cpu_seconds,
                "others_cpu_share": cpu.others_share,
                "load_average": cpu.load,
                "detail": {
                    k: pred[k]
                    for k in (
                        "flaml_version",
                        "best_estimator",
                        "best_config",
                        "fit_seconds",
                        "oof_seconds",
                        "predict_seconds",
                    )
                },
            }
        )
    for r in rows:
        print(
            f"{name}: {r['tool']}: ROC AUC {r['roc_auc']:.3f}  PR AUC {r['pr_auc']:.3f}  "
            f"F1 {r['f1']:.3f}  wall {r['wall_seconds']:.0f} s"
            + (
                ""
                if r["others_cpu_share"] is None
                else f"  (other processes: {r['others_cpu_share']:.0%} of the CPU)"
            ),
            flush=True,
        )
    return rows


def flaml_threads(args) -> int:
    """FLAML fits one configuration at a time: it gets the project's cores as threads."""
    return args.jobs * args.workers


def build_notes(args, has_budget: bool, rows: list[dict]) -> list[str]:
    notes = []
    project = [r for r in rows if r["tool"] == "project"]
    flaml = [r for r in rows if r["tool"] == "flaml"]
    if project:
        picked = ", ".join(
            f"{r['dataset']} {r['detail']['model']} + {r['detail']['sampler']}" for r in project
        )
        notes.append(
            (
                f"Project: `python -m train --budget {args.budget:g} --jobs {args.jobs} "
                f"--workers {args.workers} --no-report` in the main .venv ({args.workers} CV "
                f"folds side by side, {args.jobs} thread(s) each; the report is not part of "
                "the search)"
                if has_budget
                else "Project: this `python -m train` has no `--budget` option yet, so it ran "
                "with its defaults (the quick preset) and `--no-report`; its time is not held "
                "to the budget, and its result does not depend on how much CPU it got"
            )
            + f"; selected: {picked}. Its F1 is at the threshold it tuned on out-of-fold "
            "predictions of the train part."
        )
    if flaml:
        versions = sorted({r["detail"]["flaml_version"] for r in flaml})
        winners = ", ".join(
            f"{r['dataset']} {r['detail']['best_estimator']} (fit {r['detail']['fit_seconds']:.0f}"
            f" s, threshold refits {r['detail']['oof_seconds']:.0f} s)"
            for r in flaml
        )
        notes.append(
            f"FLAML {', '.join(versions)} (requirements/flaml.txt, .venv-flaml): "
            f"`AutoML().fit(task='classification', time_budget={args.budget:g}, "
            f"metric='{args.flaml_metric}', seed={args.seed}, n_jobs={flaml_threads(args)})` "
            "on the train part (as many cores as the project's folds use); best "
            f"learner: {winners}. Its F1 is at the threshold that maximises F1 on out-of-fold "
            f"probabilities of the train part ({THRESHOLD_FOLDS} stratified folds, the best "
            "configuration refit on each with `retrain_from_log`); the test part is only "
            "scored. Its wall time includes those refits."
        )
    shares = [r["others_cpu_share"] for r in rows if r["others_cpu_share"] is not None]
    if shares:
        low, high = f"{min(shares):.0%}", f"{max(shares):.0%}"
        text = (
            f"Run on {os.cpu_count()} cores at niceness {os.nice(0)}, one tool after the other. "
            f"Other processes took {low if low == high else f'{low}–{high}'} of the CPU while a "
            "tool ran (from /proc/stat: the last column; CPU s is what the tool itself got)"
        )
        if max(shares) < 0.05:
            text += ": the machine was otherwise quiet."
        else:
            text += ": the machine was shared, so wall times are noisy."
            if flaml and not has_budget:
                text += (
                    " FLAML's result depends on the CPU it gets within its budget and the "
                    "project's (without `--budget`) does not, so sharing tilts this comparison "
                    "towards the project."
                )
            elif flaml:
                text += (
                    " Both tools searched within a wall-clock budget on a share of the CPU, "
                    "so both found less than they would on a quiet machine."
                )
        notes.append(text)
    return notes


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", type=float, default=120.0, help="seconds per tool (default 120)")
    p.add_argument("--telecom", default="../shared/data/telecom_churn.csv")
    p.add_argument("--marketing", default="data/marketing_data.csv")
    p.add_argument("--datasets", default="telecom,marketing", help="comma-separated")
    p.add_argument("--tools", default="project,flaml", help="comma-separated: project, flaml")
    p.add_argument("--flaml-python", default=".venv-flaml/bin/python")
    p.add_argument("--flaml-metric", default="ap", choices=["ap", "roc_auc"])
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="threads per fit of the project's search (its --jobs; default 1)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=vcpus(),
        help="the project's CV folds side by side (its --workers; default: every core this "
        "process may use); FLAML's n_jobs is jobs x workers, the same cores",
    )
    p.add_argument("--test-size", type=float, default=0.2)
    p.add_argument("--runs", default="runs/bench-quality", help="folder for both tools' runs")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--markdown", help="write (or replace) the section in this Markdown file")
    p.add_argument(
        "--render",
        metavar="JSON",
        help="run nothing: rewrite the --markdown section from a result this script saved",
    )
    args = p.parse_args(argv)
    if args.render:
        doc = json.loads(Path(args.render).read_text())
        write_markdown(doc, args.markdown)
        return 0
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    try:
        for bad, known, what in ((args.tools, TOOLS, "tool"), (names, DATASETS, "dataset")):
            unknown = [x for x in bad if x not in known]
            if unknown or not bad:
                raise BenchError(f"unknown {what} {unknown or bad!r}; choose from {list(known)}")
        paths = {n: getattr(args, n) for n in names}
        for name, path in paths.items():
            if not Path(path).exists():
                raise BenchError(
                    f"--{name} {path}: no such file (make data DATA_MIRROR=../shared/data "
                    "copies the marketing data into data/)"
                )
        if "flaml" in args.tools and not Path(args.flaml_python).exists():
            raise BenchError(
                f"--flaml-python {args.flaml_python}: not found; `make bench-quality` creates "
                ".venv-flaml from requirements/flaml.txt"
            )
        has_budget = "project" in args.tools and cli_has_budget(sys.executable)
        if "project" in args.tools and not has_budget:
            print(
                "note: `python -m train` has no --budget option yet; the project side runs "
                "with the CLI's defaults (quick preset)",
                flush=True,
            )
        rows = []
        for name in names:
            rows += bench_dataset(name, paths[name], args, has_budget)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    doc = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python scripts/bench_quality.py " + shlex.join(argv or sys.argv[1:]),
        "budget_seconds": args.budget,
        "seed": args.seed,
        "test_size": args.test_size,
        "flaml_metric": args.flaml_metric,
        "project_budget_flag": has_budget,
        "jobs": args.jobs,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "notes": build_notes(args, has_budget, rows),
        "rows": rows,
    }
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2, default=str) + "\n")
    write_markdown(doc, args.markdown)
    return 0


def write_markdown(doc: dict, path: str | None) -> None:
    section = markdown_section(doc)
    print()
    print(section)
    if path:
        md = Path(path)
        md.write_text(replace_section(md.read_text() if md.exists() else "", section))


if __name__ == "__main__":
    sys.exit(main())
