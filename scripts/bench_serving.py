"""Serving benchmarks, measured side by side in one run on this machine.

    python scripts/bench_serving.py --run artifacts --data data/marketing_data.csv

1. single-record POST /predict through lambda_fn.app.handler (JSON in, JSON
   out) vs the usual stack (pandas DataFrame from the JSON, the trained
   pipeline's predict_proba, json.dumps) vs the bare onnxruntime run;
2. batch: the handler's S3 path on the data repeated to --rows rows vs pandas
   read_csv + predict_proba + to_csv on the same file, each in a fresh process
   pinned to one thread, with its peak RSS (S3 is a stand-in on local disk, so
   neither side holds the file in memory);
3. cold start: a fresh process imports the handler and loads the model,
   median of --cold-runs.

Prints the figures; --json writes them too. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def percentiles(samples: list[float]) -> dict:
    samples = sorted(samples)
    return {
        "p50_us": statistics.median(samples) * 1e6,
        "p99_us": samples[int(0.99 * (len(samples) - 1))] * 1e6,
        "n": len(samples),
    }


def timed(fn, n: int, warmup: int = 50) -> dict:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return percentiles(out)


# ---------------------------------------------------------------- single record


def first_record(data: Path, schema) -> dict:
    """The data's first row as a /predict record, typed by the model's schema."""
    import csv

    from lambda_fn.validation import cell_number

    with open(data, newline="") as fh:
        reader = csv.DictReader(fh)
        row = next(reader)
    record = {}
    for f in schema.features:
        cell = row[f.name]
        if f.kind == "numeric":
            value = cell_number(cell)
            record[f.name] = None if value is None or value != value else value
        else:
            record[f.name] = cell
    return record


def single_record(run: Path, model_path: Path, data: Path, n: int) -> dict:
    os.environ["MODEL_PATH"] = str(model_path)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    import joblib
    import numpy as np
    import pandas as pd

    from lambda_fn import app

    event = json.loads((ROOT / "infra" / "events" / "api-predict-v2.json").read_text())
    body = {"records": [first_record(data, app.MODEL.schema)]}
    event["body"] = json.dumps(body)
    devnull = open(os.devnull, "w")  # noqa: SIM115 - metrics lines, not measured output
    app.metrics.out = devnull

    handler = timed(lambda: app.handler(event, None), n)

    model = joblib.load(run / "model.joblib")
    schema = model.schema

    def usual():
        records = json.loads(event["body"])["records"]
        frame = pd.DataFrame.from_records(records)
        for f in schema.features:
            if f.kind == "numeric":
                frame[f.name] = frame[f.name].astype("float32")
            else:
                frame[f.name] = frame[f.name].fillna("").astype(object)
        p = model.predict_proba(frame)
        labels = [
            schema.positive_label if v >= model.threshold else schema.negative_label for v in p
        ]
        return json.dumps(
            {
                "predictions": [
                    {"probability": float(a), "label": b} for a, b in zip(p, labels, strict=True)
                ]
            }
        )

    pandas_path = timed(usual, max(200, n // 10), warmup=20)

    from lambda_fn.validation import records_to_columns

    columns, _ = records_to_columns(body["records"], app.MODEL.schema)
    session = app.MODEL.session
    raw = timed(lambda: session.run(["probability", "label"], columns), n)
    from lambda_fn.model import _session, _vcpus

    wide = _session(app.MODEL.data, max(2, _vcpus()))
    raw_wide = timed(lambda: wide.run(["probability", "label"], columns), n)
    result = {
        "handler": handler,
        "pandas_sklearn": pandas_path,
        "onnxruntime_run": raw,
        "onnxruntime_run_all_vcpus": raw_wide,
        "speedup_vs_pandas": pandas_path["p50_us"] / handler["p50_us"],
        "handler_overhead_us": handler["p50_us"] - raw["p50_us"],
    }
    del np
    return result


# ---------------------------------------------------------------- batch


def make_big_csv(data: Path, target: str, rows: int, out: Path) -> int:
    import csv

    with open(data, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        drop = header.index(target)
        body = [",".join(c for i, c in enumerate(r) if i != drop) + "\n" for r in csv.reader(fh)]
    keep = ",".join(h for i, h in enumerate(header) if i != drop) + "\n"
    written = 0
    with open(out, "w") as fh:
        fh.write(keep)
        while written < rows:
            take = body[: rows - written]
            fh.writelines(take)
            written += len(take)
    return written


class LocalS3:
    """The handful of S3 calls the batch path makes, on local files."""

    class exceptions:  # noqa: N801 - mirrors boto3's client.exceptions
        class NoSuchKey(Exception):
            pass

    def __init__(self, source: Path, sink_dir: Path):
        self.source, self.sink = source, sink_dir
        self.parts: dict[str, object] = {}

    def head_object(self, Bucket, Key):  # noqa: N803 - boto3 names
        return {"ETag": '"local"', "ContentLength": self.source.stat().st_size}

    def get_object(self, Bucket, Key):  # noqa: N803
        if Key.startswith("summaries/"):
            raise self.exceptions.NoSuchKey(Key)
        return {"Body": open(self.source, "rb")}  # noqa: SIM115 - closed by the reader

    def _path(self, key):
        path = self.sink / key.replace("/", "__")
        return path

    def put_object(self, Bucket, Key, Body, **kw):  # noqa: N803
        self._path(Key).write_bytes(Body)

    def create_multipart_upload(self, Bucket, Key, **kw):  # noqa: N803
        self.parts[Key] = open(self._path(Key), "wb")  # noqa: SIM115
        return {"UploadId": Key}

    def upload_part(self, Bucket, Key, UploadId, PartNumber, Body):  # noqa: N803
        self.parts[Key].write(Body)
        return {"ETag": str(PartNumber)}

    def complete_multipart_upload(self, Bucket, Key, UploadId, MultipartUpload):  # noqa: N803
        self.parts.pop(Key).close()

    def abort_multipart_upload(self, Bucket, Key, UploadId):  # noqa: N803
        self.parts.pop(Key).close()

    def delete_object(self, Bucket, Key):  # noqa: N803
        self._path(Key).unlink(missing_ok=True)


def batch_handler_worker(model_path: str, csv_path: str, sink: str) -> dict:
    from lambda_fn import batch
    from lambda_fn.config import Config
    from lambda_fn.model import Model

    model = Model.from_bytes(Path(model_path).read_bytes(), threads=1)
    s3 = LocalS3(Path(csv_path), Path(sink))
    t = time.perf_counter()
    summary = batch.score_object(s3, "bench", "incoming/big.csv", model, Config())
    seconds = time.perf_counter() - t
    return {"rows": summary["rows_scored"], "seconds": seconds, "timings": summary["timings"]}


def batch_pandas_worker(run: str, csv_path: str, sink: str) -> dict:
    import joblib
    import pandas as pd

    model = joblib.load(Path(run) / "model.joblib")
    for _, step in model.pipeline.steps:
        if hasattr(step, "n_jobs"):
            step.set_params(n_jobs=1)
    schema = model.schema
    t = time.perf_counter()
    frame = pd.read_csv(
        csv_path,
        dtype={f.name: ("float32" if f.kind == "numeric" else str) for f in schema.features},
        keep_default_na=True,
    )
    for f in schema.features:
        if f.kind != "numeric":
            frame[f.name] = frame[f.name].fillna("").astype(object)
    p = model.predict_proba(frame)
    frame["probability"] = p
    frame["label"] = [
        schema.positive_label if v >= model.threshold else schema.negative_label for v in p
    ]
    frame.to_csv(Path(sink) / "scored.csv", index=False)
    return {"rows": len(frame), "seconds": time.perf_counter() - t}


def run_worker(kind: str, *args: str) -> dict:
    env = {**os.environ, **ONE_THREAD, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", kind, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} worker failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def batch_compare(run: Path, model_path: Path, data: Path, target: str, rows: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv_path = tmp / "big.csv"
        n = make_big_csv(data, target, rows, csv_path)
        out = {"rows": n, "file_mb": csv_path.stat().st_size / 1e6}
        for kind, args in (("handler", (str(model_path),)), ("pandas", (str(run),))):
            sink = tmp / kind
            sink.mkdir()
            out[kind] = run_worker(f"batch-{kind}", *args, str(csv_path), str(sink))
            out[kind]["rows_per_s"] = out[kind]["rows"] / out[kind]["seconds"]
        out["throughput_ratio"] = out["handler"]["rows_per_s"] / out["pandas"]["rows_per_s"]
        out["memory_ratio"] = out["handler"]["peak_rss_mb"] / out["pandas"]["peak_rss_mb"]
        return out


def operator_profile(model_path: Path, data: Path, target: str, rows: int = 50_000) -> dict:
    """Share of onnxruntime kernel time per operator type, one thread."""
    import collections

    import onnxruntime as ort

    from lambda_fn import batch
    from lambda_fn.model import Model

    model = Model.from_bytes(model_path.read_bytes(), threads=1)
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "sample.csv"
        make_big_csv(data, target, rows, csv_path)
        with open(csv_path) as fh:
            records = batch._Records(fh)
            _, header = records.header()
            chunk = list(records)
    index = {name: header.index(name) for name in model.schema.names}
    columns = {}
    for f in model.schema.features:
        cells = [r[2][index[f.name]] for r in chunk]
        if f.kind == "numeric":
            columns[f.name] = batch._numbers(cells)[0].reshape(-1, 1)
        else:
            columns[f.name] = (
                __import__("numpy").array(batch._categories(cells), dtype=object).reshape(-1, 1)
            )
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.enable_profiling = True
    options.profile_file_prefix = str(Path(tempfile.gettempdir()) / "ort-profile")
    session = ort.InferenceSession(model_path.read_bytes(), options)
    session.run(None, columns)
    path = session.end_profiling()
    totals = collections.Counter()
    for event in json.loads(Path(path).read_text()):
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            totals[event["args"]["op_name"]] += event["dur"]
    Path(path).unlink(missing_ok=True)
    whole = sum(totals.values()) or 1
    return {op: round(t / whole, 3) for op, t in totals.most_common(5)}


# ---------------------------------------------------------------- cold start

COLD = """
import time, os
t = time.perf_counter()
import lambda_fn.app
print(time.perf_counter() - t)
"""


def cold_start(model_path: Path, runs: int) -> dict:
    env = {
        **os.environ,
        "MODEL_PATH": str(model_path),
        "PYTHONPATH": str(ROOT),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    env.pop("AWS_XRAY_DAEMON_ADDRESS", None)
    samples = []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-c", COLD],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=True,
        )
        samples.append(float(proc.stdout.strip().splitlines()[-1]))
    return {
        "median_ms": statistics.median(samples) * 1000,
        "runs": runs,
        "min_ms": min(samples) * 1000,
        "max_ms": max(samples) * 1000,
    }


def markdown(figures: dict, command: str) -> str:
    s, b, c = figures["single_record"], figures["batch"], figures["cold_start"]

    def verdict(ok):
        return "met" if ok else "**missed**"

    lines = [
        "# Serving benchmarks",
        "",
        f"Produced by `{command}` on this project's 2-core machine; every figure",
        "below was measured side by side in that one run. Rerun it to check.",
        "",
        "## Single-record `POST /predict` (in process)",
        "",
        "| path | p50 µs | p99 µs |",
        "|---|---|---|",
    ]
    names = {
        "handler": "`lambda_fn.app.handler` (event JSON in, response JSON out)",
        "pandas_sklearn": "pandas DataFrame + trained pipeline `predict_proba` + `json.dumps`",
        "onnxruntime_run": "bare onnxruntime `run` of the prebuilt row (one thread)",
        "onnxruntime_run_all_vcpus": "bare onnxruntime `run`, all vCPUs",
    }
    for key, label in names.items():
        lines.append(f"| {label} | {s[key]['p50_us']:.0f} | {s[key]['p99_us']:.0f} |")
    lines += [
        "",
        f"- Handler p50 {s['handler']['p50_us']:.0f} µs, target ≤ 150 µs: "
        f"{verdict(s['handler']['p50_us'] <= 150)}.",
        f"- {s['speedup_vs_pandas']:.0f}× faster than the pandas + scikit-learn path, "
        f"target ≥ 30×: {verdict(s['speedup_vs_pandas'] >= 30)}.",
        "",
        f"## Batch: {b['rows']:,} rows ({b['file_mb']:.0f} MB), one thread each",
        "",
        "| path | rows/s | peak RSS MB |",
        "|---|---|---|",
        f"| handler S3 path (stream, parse, score, write) | {b['handler']['rows_per_s']:,.0f} "
        f"| {b['handler']['peak_rss_mb']:.0f} |",
        f"| pandas `read_csv` + `predict_proba` + `to_csv` | {b['pandas']['rows_per_s']:,.0f} "
        f"| {b['pandas']['peak_rss_mb']:.0f} |",
        "",
        f"- Throughput ratio {b['throughput_ratio']:.2f}, target ≥ 1: "
        f"{verdict(b['throughput_ratio'] >= 1)}.",
        f"- Memory ratio {b['memory_ratio']:.2f}, target ≤ 0.5: "
        f"{verdict(b['memory_ratio'] <= 0.5)}.",
        f"- Where the handler's time goes (seconds): {b['handler']['timings']}.",
        f"- Inside onnxruntime, share of kernel time by operator: "
        f"{figures['onnxruntime_operator_share']}.",
        "",
        "S3 is a stand-in on local disk for both paths (`LocalS3` in the script), so",
        "neither process holds the file in memory; peak RSS is the process maximum.",
        "",
        "## Cold start",
        "",
        f"A fresh process imports `lambda_fn.app` and loads the model: median "
        f"{c['median_ms']:.0f} ms over {c['runs']} runs (min {c['min_ms']:.0f}, "
        f"max {c['max_ms']:.0f}); target ≤ 350 ms: {verdict(c['median_ms'] <= 350)}.",
        "X-Ray is off here; with active tracing the Powertools Tracer adds the",
        "aws_xray_sdk import to the init.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="serving benchmarks")
    p.add_argument("--run", default=str(ROOT / "artifacts"))
    p.add_argument("--model", help="default: RUN/model.onnx")
    p.add_argument("--data", default=str(ROOT / "data" / "marketing_data.csv"))
    p.add_argument("--target", default="y")
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--requests", type=int, default=5000)
    p.add_argument("--cold-runs", type=int, default=10)
    p.add_argument("--json", help="also write the figures here")
    p.add_argument("--markdown", help="also write a report here")
    p.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        result = (batch_handler_worker if kind == "batch-handler" else batch_pandas_worker)(*rest)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return 0
    run = Path(args.run)
    model_path = Path(args.model) if args.model else run / "model.onnx"
    figures = {
        "single_record": single_record(run, model_path, Path(args.data), args.requests),
        "batch": batch_compare(run, model_path, Path(args.data), args.target, args.rows),
        "cold_start": cold_start(model_path, args.cold_runs),
        "onnxruntime_operator_share": operator_profile(model_path, Path(args.data), args.target),
    }
    s, b, c = figures["single_record"], figures["batch"], figures["cold_start"]
    print("single record POST /predict (µs)      p50      p99")
    for name in ("handler", "pandas_sklearn", "onnxruntime_run", "onnxruntime_run_all_vcpus"):
        print(f"  {name:<34}{s[name]['p50_us']:>8.0f} {s[name]['p99_us']:>8.0f}")
    print(
        f"  handler vs pandas+sklearn: {s['speedup_vs_pandas']:.1f}x faster "
        f"(target >= 30x); handler p50 target <= 150 µs"
    )
    print(f"\nbatch, {b['rows']:,} rows ({b['file_mb']:.0f} MB), one thread")
    for name in ("handler", "pandas"):
        print(
            f"  {name:<10}{b[name]['rows_per_s']:>12,.0f} rows/s  peak RSS "
            f"{b[name]['peak_rss_mb']:>7.0f} MB"
        )
    print(
        f"  throughput ratio {b['throughput_ratio']:.2f} (target >= 1), memory ratio "
        f"{b['memory_ratio']:.2f} (target <= 0.5); handler split: {b['handler']['timings']}"
    )
    print(
        f"\ncold start (import handler + load model): median {c['median_ms']:.0f} ms over "
        f"{c['runs']} runs (target <= 350 ms)"
    )
    print(f"onnxruntime time by operator (one thread): {figures['onnxruntime_operator_share']}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    if args.markdown:
        command = "python scripts/bench_serving.py " + " ".join(argv or sys.argv[1:])
        Path(args.markdown).write_text(markdown(figures, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
