"""How much a test-split figure moves with the split alone.

A quality bar set on one held-out split (seed 42) is one draw: on the
3,333-row telecom data the test part holds 97 churners, and its ROC AUC
moves by more than the gaps the search is judged on. This runs the same
search (`python -m train --trials N`, reproducible, so the clock plays no
part) once per split seed and prints the winner's CV score and its test
figures for each split, with their spread.

    python scripts/split_spread.py --data ../shared/data/telecom_churn.csv \
        --target churn --positive True --drop "phone number" --trials 60 --seeds 1-10,42
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


def parse_seeds(text: str) -> list[int]:
    seeds = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds += list(range(int(low), int(high or low) + 1))
    return seeds


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--positive")
    p.add_argument("--drop", action="append", default=[])
    p.add_argument("--trials", type=int, default=60)
    p.add_argument("--seeds", default="1-10,42", help="split seeds: 1-10,42 (default)")
    args = p.parse_args(argv)
    try:
        seeds = parse_seeds(args.seeds)
    except ValueError:
        p.error(f"--seeds {args.seeds!r}: expected numbers and ranges such as 1-10,42")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            out = Path(tmp) / f"seed-{seed}"
            cmd = [sys.executable, "-m", "train", "--data", args.data, "--target", args.target]
            cmd += ["--positive", args.positive] if args.positive else []
            for column in args.drop:
                cmd += ["--drop", column]
            cmd += ["--trials", str(args.trials), "--seed", str(seed), "--out", str(out)]
            cmd += ["--no-progress", "--no-report"]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
            if proc.returncode != 0:
                print(proc.stderr.strip().splitlines()[-1], file=sys.stderr)
                return 1
            m = json.loads((out / "metrics.json").read_text())
            rows.append((seed, m["selection"]["picked"], m["cv_score"], m["roc_auc"], m["pr_auc"]))
            print(
                f"seed {seed:>3}  {m['selection']['picked']:<28} CV {m['selection_metric']} "
                f"{m['cv_score']:.3f}  test ROC AUC {m['roc_auc']:.3f}  PR AUC {m['pr_auc']:.3f}",
                flush=True,
            )
    rocs = [r[3] for r in rows]
    prs = [r[4] for r in rows]
    print(
        f"{len(rows)} splits: test ROC AUC {min(rocs):.3f}-{max(rocs):.3f} "
        f"(mean {statistics.mean(rocs):.3f}, SD {statistics.pstdev(rocs):.3f}); "
        f"PR AUC {min(prs):.3f}-{max(prs):.3f} (mean {statistics.mean(prs):.3f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
