"""Benchmarks: what serving the ONNX graph in lambda_fn gains over shipping the
trained scikit-learn / XGBoost / Keras model, measured side by side in one run.

    python scripts/bench.py --run artifacts --keras-run runs/marketing-keras \
        --data data/marketing_data.csv --runs runs --json docs/benchmarks.json \
        --markdown docs/benchmarks.md          (this is `make bench`)

The sections live in bench/ (latency, batch, memory, chunked, operators,
cold_start, size, training), the bars in bench/targets.py and the report in
bench/report.py. Nothing is asserted; the report states each target and
whether it was met.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import batch, memory, report  # noqa: E402
from bench.machine import QUIET  # noqa: E402
from bench.operators import operator_profile  # noqa: E402
from bench.suite import Sizes, measure_all  # noqa: E402


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="benchmarks")
    p.add_argument("--run", default=str(ROOT / "artifacts"), help="quick-preset winner, exported")
    p.add_argument("--keras-run", help="a Keras run folder, exported")
    p.add_argument("--data", default=str(ROOT / "data" / "marketing_data.csv"))
    p.add_argument("--target", default="y")
    p.add_argument("--rows", type=int, default=Sizes.rows)
    p.add_argument("--memory-mb", type=int, default=Sizes.memory_mb, help="size of the large file")
    p.add_argument("--wide-rows", type=int, default=Sizes.wide_rows, help="rows of the wide file")
    p.add_argument("--requests", type=int, default=Sizes.requests)
    p.add_argument("--cold-runs", type=int, default=Sizes.cold_runs)
    p.add_argument("--rie-runs", type=int, default=Sizes.rie_runs, help="starts under RIE")
    p.add_argument("--runs", help="folder with the run folders of `make results`")
    p.add_argument("--json", help="write the figures here")
    p.add_argument("--markdown", help="write the report here")
    p.add_argument(
        "--only",
        choices=["memory", "batch"],
        help="run one section and print it (no --keras-run or --runs needed); "
        "batch: the target's race alone, --rows rows on one thread each",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    os.environ.update(QUIET)
    run, data = Path(args.run), Path(args.data)
    for path, flag in ((run / "model.onnx", "--run"), (data, "--data")):
        if not path.is_file():
            print(f"{flag}: {path} not found", file=sys.stderr)
            return 2
    with open(data, newline="") as fh:
        header = next(csv.reader(fh), [])
    if args.target not in header:
        print(f"--target: no column {args.target!r} in {data}", file=sys.stderr)
        return 2
    if args.only == "memory":
        figures = memory.memory_bounds(run, data, args.target, args.memory_mb, args.wide_rows)
        print("\n".join(memory.markdown(figures)))
        report.write_json({"memory": figures}, args.json)
        return 0
    if args.only == "batch":
        figures = {
            "batch": batch.batch_compare(run, data, args.target, args.rows, full_only=True),
            "onnxruntime_operator_share": operator_profile(run, data, args.target),
        }
        print("\n".join(batch.markdown(figures)))
        report.write_json(figures, args.json)
        return 0
    sizes = Sizes(
        args.rows, args.memory_mb, args.wide_rows, args.requests, args.cold_runs, args.rie_runs
    )
    keras_run = Path(args.keras_run) if args.keras_run else None
    runs = Path(args.runs) if args.runs else None
    figures = measure_all(run, keras_run, data, args.target, runs, sizes)
    command = "python scripts/bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(report.write(figures, command, args.json, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
