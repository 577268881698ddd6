"""The same search from two checkouts, over several split seeds.

One split is one draw, and at a time budget the clock decides how many trials
a search gets, so "same or better than the last release" is judged here over
several seeds, with the two checkouts' runs for a seed started together so
that both see the same machine load. A checkout is a git ref (checked out
into a temporary worktree) or the working tree itself ("."). Prints, per
dataset and seed, each side's selected and best CV score, its trials and its
test ROC/PR AUC, then the means and the per-seed differences.

    python scripts/compare_releases.py --base 19e4a16 --seeds 1-3 --budget 120 \
        --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.split_spread import parse_seeds  # noqa: E402

DATASETS = {
    "marketing": ["marketing_data.csv", "--target", "y", "--positive", "yes"],
    "telecom": [
        "telecom_churn.csv",
        "--target",
        "churn",
        "--positive",
        "True",
        "--drop",
        "phone number",
    ],
}
FIELDS = ("cv", "best_cv", "trials", "test_roc", "test_pr")


def command(
    checkout: Path, data_dir: Path, name: str, seed: int, budget: float, out: Path
) -> list[str]:
    file, *flags = DATASETS[name]
    return [
        sys.executable,
        "-m",
        "train",
        "--data",
        str(data_dir / file),
        *flags,
        "--seed",
        str(seed),
        "--budget",
        f"{budget:g}",
        "--out",
        str(out),
        "--no-progress",
        "--no-report",
    ]


def figures(out: Path) -> dict:
    m = json.loads((out / "metrics.json").read_text())
    return {
        "cv": m["cv_score"],
        "best_cv": m["selection"]["best_cv_score"],
        "trials": m["trials"],
        "test_roc": m["roc_auc"],
        "test_pr": m["pr_auc"],
    }


def run_pair(
    checkouts: dict[str, Path], data_dir, name, seed, budget, work: Path
) -> dict[str, dict]:
    """Both sides' runs for one dataset and seed, started together."""
    running = {}
    for side, checkout in checkouts.items():
        out = work / f"{side}-{name}-{seed}"
        log = open(out.with_suffix(".log"), "w")  # noqa: SIM115 - closed after wait
        cmd = command(checkout, data_dir, name, seed, budget, out)
        running[side] = (
            subprocess.Popen(cmd, cwd=checkout, stdout=log, stderr=subprocess.STDOUT),
            out,
            log,
        )
    results = {}
    for side, (child, out, log) in running.items():
        code = child.wait()
        log.close()
        if code != 0:
            sys.exit(f"{side} run failed for {name} seed {seed}; see {out.with_suffix('.log')}")
        results[side] = figures(out)
    return results


def summary(rows: list[tuple[str, int, dict[str, dict]]]) -> list[str]:
    lines = [
        "| data | seed | side | selected CV PR AUC | best CV PR AUC | trials | test ROC AUC | test PR AUC |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, seed, sides in rows:
        for side, f in sides.items():
            lines.append(
                f"| {name} | {seed} | {side} | {f['cv']:.4f} | {f['best_cv']:.4f} | {f['trials']} | "
                f"{f['test_roc']:.4f} | {f['test_pr']:.4f} |"
            )
    lines += [
        "",
        "| data | side | mean selected CV | mean best CV | mean test ROC | mean test PR | seeds |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in dict.fromkeys(r[0] for r in rows):
        mine = [sides for n, _, sides in rows if n == name]
        for side in mine[0]:
            mean = {k: statistics.fmean(s[side][k] for s in mine) for k in FIELDS}
            lines.append(
                f"| {name} | {side} | {mean['cv']:.4f} | {mean['best_cv']:.4f} | "
                f"{mean['test_roc']:.4f} | {mean['test_pr']:.4f} | {len(mine)} |"
            )
        diffs = [s["head"]["cv"] - s["base"]["cv"] for s in mine]
        lines.append(
            f"| {name} | head - base, selected CV per seed | "
            + ", ".join(f"{d:+.4f}" for d in diffs)
            + f" (mean {statistics.fmean(diffs):+.4f}) | | | | |"
        )
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", required=True, help="git ref of the release to compare against")
    p.add_argument("--head", default=".", help='git ref, or "." for this working tree (default)')
    p.add_argument("--seeds", default="1-3")
    p.add_argument("--budget", type=float, default=120)
    p.add_argument("--data-dir", type=Path, default=ROOT / "data")
    p.add_argument("--datasets", default="marketing,telecom")
    p.add_argument("--out", type=Path, help="keep the runs here (default: a temporary folder)")
    args = p.parse_args(argv)
    try:
        seeds = parse_seeds(args.seeds)
    except ValueError:
        p.error(f"--seeds {args.seeds!r}: expected numbers and ranges such as 1-3,42")
    names = args.datasets.split(",")
    if unknown := set(names) - set(DATASETS):
        p.error(f"--datasets: unknown {sorted(unknown)}; known: {sorted(DATASETS)}")
    with tempfile.TemporaryDirectory() as tmp:
        work = args.out or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        checkouts, added = {}, []
        for side, ref in (("base", args.base), ("head", args.head)):
            if ref == ".":
                checkouts[side] = ROOT
                continue
            tree = Path(tmp) / f"tree-{side}"
            subprocess.run(
                ["git", "worktree", "add", "--detach", "-q", str(tree), ref],  # noqa: S607
                cwd=ROOT,
                check=True,
            )
            checkouts[side], added = tree, [*added, tree]
        try:
            rows = []
            for seed in seeds:
                for name in names:
                    rows.append(
                        (
                            name,
                            seed,
                            run_pair(
                                checkouts,
                                args.data_dir.resolve(),
                                name,
                                seed,
                                args.budget,
                                work.resolve(),
                            ),
                        )
                    )
                    print(f"done: {name} seed {seed}", file=sys.stderr, flush=True)
        finally:
            for tree in added:
                subprocess.run(
                    ["git", "worktree", "remove", "--force", str(tree)],  # noqa: S607
                    cwd=ROOT,
                    check=False,
                )
    print(f"base {args.base} vs head {args.head}, --budget {args.budget:g}, seeds {args.seeds}\n")
    print("\n".join(summary(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
