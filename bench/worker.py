"""One batch measurement in a fresh process, so that its peak memory is its
own and its thread pools are set before any library starts them.

    python -m bench.worker KIND RUN CSV SINK THREADS

KIND is `handler` (lambda_fn's S3 path, on the local S3 stand-in) or `pandas`
(read_csv + the pipeline + to_csv). RUN is an exported run folder, CSV the
input, SINK an existing folder for the output (`scored__big.csv` or
`scored.csv`), THREADS the thread count. The last line on stdout is one JSON
object: rows, seconds, timings (seconds per phase) and peak_rss_mb (VmHWM).
`measure()` starts one with the thread variables set and reads that line.

Only the standard library is imported before KIND is known, so neither side
pays for the other's imports."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.machine import ROOT, child_env
from bench.timing import peak_rss_mb

KINDS = ("handler", "pandas")
USAGE = "usage: python -m bench.worker {handler|pandas} RUN CSV SINK THREADS"


def score_handler(run: Path, csv_path: Path, sink: Path, threads: int) -> dict:
    """lambda_fn's S3 batch path on `csv_path`, as the deployed function runs it."""
    from bench.local_s3 import LocalS3
    from lambda_fn import batch
    from lambda_fn.config import Config
    from lambda_fn.model import Model

    model = Model.from_bytes((run / "model.onnx").read_bytes(), threads=threads)
    t = time.perf_counter()
    summary = batch.score_object(
        LocalS3(csv_path, sink), "bench", "incoming/big.csv", model, Config()
    )
    return {
        "rows": summary["rows_scored"],
        "seconds": time.perf_counter() - t,
        "timings": summary["timings"],
    }


def score_pandas(run: Path, csv_path: Path, sink: Path, threads: int) -> dict:
    """The pandas baseline on `csv_path`, the pipeline's steps on `threads` threads."""
    from bench import baseline

    return baseline.score_csv(baseline.load(run, threads), csv_path, sink / "scored.csv")


def measure(kind: str, run: Path, csv_path: Path, sink: Path, threads: int = 1) -> dict:
    """Run one worker in a fresh process and return its JSON line."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.worker", kind, str(run), str(csv_path), str(sink)]
        + [str(threads)],
        capture_output=True,
        text=True,
        env=child_env(threads),
        cwd=ROOT,
        timeout=3600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} worker failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 5 or args[0] not in KINDS or not args[4].isdigit():
        print(USAGE, file=sys.stderr)
        return 2
    kind, run, csv_path, sink, threads = args
    score = score_handler if kind == "handler" else score_pandas
    result = score(Path(run), Path(csv_path), Path(sink), int(threads))
    result["peak_rss_mb"] = peak_rss_mb()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # System time is mostly page faults on memory the process touches first:
    # on a VM whose memory is backed lazily it grows with the peak, not the work.
    result["cpu_seconds"] = {"user": round(usage.ru_utime, 2), "system": round(usage.ru_stime, 2)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
