"""Benchmarks: what serving the ONNX graph in lambda_fn gains over shipping the
trained scikit-learn / XGBoost / Keras model, measured side by side in one run.

    python scripts/bench.py --run artifacts --keras-run runs/marketing-keras \
        --data data/marketing_data.csv --runs runs --json docs/benchmarks.json \
        --markdown docs/benchmarks.md          (this is `make bench`)

1. Single-record POST /predict latency through lambda_fn.app.handler (JSON
   in, JSON out), against the usual stack (pandas DataFrame from the JSON, the
   pipeline's predict_proba, json.dumps), the Keras network called directly,
   and the bare onnxruntime run: for the quick-preset winner and the Keras
   network, each exported.
2. Batch: the handler's S3 path on the data repeated to --rows rows, against
   pandas read_csv + predict_proba + to_csv, each in a fresh process on one
   thread, with peak RSS; twice (half and full size) to show memory is flat.
   Then peak RSS of the handler's path alone on a 1 MB file, a --memory-mb
   file and a 5,000-column file (--wide-rows rows), side by side.
3. Cold start: fresh processes, median of --cold-runs each.
4. Deployment size: installed size of the serving requirements plus the model,
   against the training stack that can serve the same models.
5. Training time of the default and the larger search, from the run folders
   that `make results` writes.

Nothing is asserted; the report states each target and whether it was met.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)
VCPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3", "POWERTOOLS_LOG_LEVEL": "WARNING"}


def percentiles(samples: list[float]) -> dict:
    samples = sorted(samples)
    return {
        "p50_us": statistics.median(samples) * 1e6,
        "p99_us": samples[int(0.99 * (len(samples) - 1))] * 1e6,
        "n": len(samples),
    }


ROUNDS = 5


def timed(fn, n: int, warmup: int = 50) -> dict:
    """Percentiles of n calls, and the p50 of each of ROUNDS consecutive
    slices: their spread is how far the machine's own speed moved meanwhile."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    result = percentiles(out)
    size = n // ROUNDS
    if size >= 20:
        result["round_p50_us"] = [
            statistics.median(out[k * size : (k + 1) * size]) * 1e6 for k in range(ROUNDS)
        ]
    return result


def first_record(data: Path, schema) -> dict:
    """The data's first row as a /predict record, typed by the model's schema."""
    import csv

    from contract.cells import cell_number

    with open(data, newline="") as fh:
        row = next(csv.DictReader(fh))
    record = {}
    for f in schema.features:
        cell = row[f.name]
        if f.kind == "numeric":
            value = cell_number(cell)
            record[f.name] = None if value is None or value != value else value
        else:
            record[f.name] = cell
    return record


# ---------------------------------------------------------------- 1. latency


def single_record(run: Path, data: Path, n: int) -> dict:
    """One model: handler vs pandas+pipeline vs (Keras direct) vs bare onnxruntime."""
    import joblib
    import pandas as pd

    from lambda_fn import app
    from lambda_fn.model import Model, _session, _vcpus
    from lambda_fn.validation import records_to_columns

    model = Model.load(str(run / "model.onnx"))
    app.use_model(model)
    app.metrics.out = open(os.devnull, "w")  # noqa: SIM115 - metric lines are not measured output
    event = json.loads((ROOT / "infra" / "events" / "api-predict-v2.json").read_text())
    record = first_record(data, model.schema)
    event["body"] = json.dumps({"records": [record]})
    result = {"handler": timed(lambda: app.handler(event, None), n)}
    if "explanation" in model.metadata:  # the same record with its top 3 reasons
        explained = {**event, "body": json.dumps({"records": [record], "explain": 3})}
        result["handler_explain3"] = timed(lambda: app.handler(explained, None), n)
        result["explain_cost_ratio"] = (
            result["handler_explain3"]["p50_us"] / result["handler"]["p50_us"]
        )

    pipeline = joblib.load(run / "model.joblib")
    schema = pipeline.schema

    def usual():
        frame = pd.DataFrame.from_records(json.loads(event["body"])["records"])
        for f in schema.features:
            frame[f.name] = (
                frame[f.name].astype("float32")
                if f.kind == "numeric"
                else frame[f.name].fillna("").astype(object)
            )
        p = pipeline.predict_proba(frame)
        labels = [
            schema.positive_label if v >= pipeline.threshold else schema.negative_label for v in p
        ]
        return json.dumps(
            {
                "predictions": [
                    {"probability": float(a), "label": b} for a, b in zip(p, labels, strict=True)
                ]
            }
        )

    result["pandas_pipeline"] = timed(usual, max(100, n // 10), warmup=10)
    # An ensemble has no single network to call directly.
    steps = dict(pipeline.inference_steps()) if getattr(pipeline, "members", None) is None else {}
    if hasattr(steps.get("model"), "model_"):  # the Keras network, on the already encoded row
        frame = pd.DataFrame.from_records([record])
        for f in schema.features:
            frame[f.name] = (
                frame[f.name].astype("float32")
                if f.kind == "numeric"
                else frame[f.name].fillna("").astype(object)
            )
        if "derive" in steps:  # derived features (sums, indicators) come before the encoding
            frame = steps["derive"].transform(frame)
        x = steps["prep"].transform(frame).astype("float32")
        net = steps["model"].model_
        result["keras_direct"] = timed(lambda: net(x, training=False), max(200, n // 5))
    columns, _ = records_to_columns([record], model.schema)
    result["onnxruntime_run"] = timed(lambda: model.session.run(None, columns), n)
    wide = _session(model.data, max(2, _vcpus()))
    result["onnxruntime_run_all_vcpus"] = timed(lambda: wide.run(None, columns), n)
    result["speedup_vs_pandas"] = result["pandas_pipeline"]["p50_us"] / result["handler"]["p50_us"]
    result["learner"] = model.metadata.get("learner")
    result["strategy"] = model.metadata.get("strategy")
    return result


def handler_profile(run: Path, data: Path, n: int = 3000) -> list[str]:
    """cProfile of the single-record handler: the top functions by own time."""
    import cProfile
    import io
    import pstats

    from lambda_fn import app
    from lambda_fn.model import Model

    model = Model.load(str(run / "model.onnx"))
    app.use_model(model)
    event = json.loads((ROOT / "infra" / "events" / "api-predict-v2.json").read_text())
    event["body"] = json.dumps({"records": [first_record(data, model.schema)]})
    for _ in range(200):
        app.handler(event, None)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(n):
        app.handler(event, None)
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(12)
    lines = [line.rstrip() for line in out.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    return [
        re.sub(r"/\S*/site-packages/", "", line).replace(str(ROOT) + "/", "")
        for line in lines[start:]
    ]


# ---------------------------------------------------------------- 2. batch


def make_big_csv(data: Path, target: str, rows: int, out: Path) -> int:
    import csv

    with open(data, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        drop = header.index(target)
        body = [",".join(c for i, c in enumerate(r) if i != drop) + "\n" for r in reader]
    written = 0
    with open(out, "w") as fh:
        fh.write(",".join(h for i, h in enumerate(header) if i != drop) + "\n")
        while written < rows:
            take = body[: rows - written]
            fh.writelines(take)
            written += len(take)
    return written


class LocalS3:
    """The handful of S3 calls the batch path makes, on local files (no
    conditions are checked: one run at a time)."""

    class exceptions:  # noqa: N801 - mirrors boto3's client.exceptions
        class NoSuchKey(Exception):
            response = {"Error": {"Code": "NoSuchKey"}}  # what read_json looks for

    def __init__(self, source: Path, sink_dir: Path):
        self.source, self.sink = source, sink_dir
        self.parts: dict[str, object] = {}

    def _path(self, key):
        return self.sink / key.replace("/", "__")

    def head_object(self, Bucket, Key):  # noqa: N803 - boto3's names
        return {"ETag": '"local"', "ContentLength": self.source.stat().st_size}

    def get_object(self, Bucket, Key, Range=None, **kw):  # noqa: N803
        if not Key.startswith("incoming/"):
            if not self._path(Key).exists():
                raise self.exceptions.NoSuchKey(Key)
            return {"Body": open(self._path(Key), "rb"), "ETag": '"local"'}  # noqa: SIM115
        body = open(self.source, "rb")  # noqa: SIM115 - closed by the reader
        if Range:
            body.seek(int(Range.removeprefix("bytes=").split("-")[0]))
        return {"Body": body, "ETag": '"local"'}

    def put_object(self, Bucket, Key, Body, **kw):  # noqa: N803
        self._path(Key).write_bytes(Body)
        return {"ETag": '"local"'}

    def create_multipart_upload(self, Bucket, Key, **kw):  # noqa: N803
        self.parts[Key] = open(self._path(Key), "wb")  # noqa: SIM115
        return {"UploadId": Key}

    def upload_part(self, Bucket, Key, UploadId, PartNumber, Body):  # noqa: N803
        self.parts[Key].write(Body)
        return {"ETag": str(PartNumber)}

    def complete_multipart_upload(self, Bucket, Key, UploadId, MultipartUpload, **kw):  # noqa: N803
        self.parts.pop(Key).close()

    def abort_multipart_upload(self, Bucket, Key, UploadId):  # noqa: N803
        self.parts.pop(Key).close()

    def delete_object(self, Bucket, Key, **kw):  # noqa: N803
        self._path(Key).unlink(missing_ok=True)


def batch_handler_worker(run: str, csv_path: str, sink: str, threads: str) -> dict:
    from lambda_fn import batch
    from lambda_fn.config import Config
    from lambda_fn.model import Model

    model = Model.from_bytes((Path(run) / "model.onnx").read_bytes(), threads=int(threads))
    t = time.perf_counter()
    summary = batch.score_object(
        LocalS3(Path(csv_path), Path(sink)), "bench", "incoming/big.csv", model, Config()
    )
    return {
        "rows": summary["rows_scored"],
        "seconds": time.perf_counter() - t,
        "timings": summary["timings"],
    }


def batch_pandas_worker(run: str, csv_path: str, sink: str, threads: str) -> dict:
    import joblib
    import pandas as pd

    model = joblib.load(Path(run) / "model.joblib")
    members = model.members or []  # an ensemble: each member's pipeline
    for pipeline in [m.pipeline for m in members] or [model.pipeline]:
        for _, step in pipeline.steps:
            if hasattr(step, "n_jobs"):
                step.set_params(n_jobs=int(threads))
    schema = model.schema
    t = start = time.perf_counter()
    frame = pd.read_csv(
        csv_path,
        dtype={f.name: ("float32" if f.kind == "numeric" else str) for f in schema.features},
    )
    for f in schema.features:
        if f.kind != "numeric":
            frame[f.name] = frame[f.name].fillna("").astype(object)
    timings = {"parse_seconds": time.perf_counter() - t}
    t = time.perf_counter()
    p = model.predict_proba(frame)
    timings["score_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    frame["probability"] = p
    frame["label"] = [
        schema.positive_label if v >= model.threshold else schema.negative_label for v in p
    ]
    frame.to_csv(Path(sink) / "scored.csv", index=False)
    timings["write_seconds"] = time.perf_counter() - t
    seconds = time.perf_counter() - start
    timings = {k: round(v, 4) for k, v in timings.items()} | {"total_seconds": round(seconds, 4)}
    return {"rows": len(frame), "seconds": seconds, "timings": timings}


def peak_rss_mb() -> float:
    """This process's peak resident memory.

    Read from VmHWM, not getrusage: ru_maxrss survives exec, so a worker
    started from a large parent would report the parent's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_worker(kind: str, *args: str, threads: int = 1) -> dict:
    env = {**os.environ, **dict.fromkeys(THREAD_VARIABLES, str(threads)), **QUIET}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", kind, *args, str(threads)],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} worker failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def batch_compare(run: Path, data: Path, target: str, rows: int) -> dict:
    """Half and full size on one thread each (the target), then full size with
    every vCPU each (what a Lambda function with that many vCPUs sees)."""
    out = {}
    runs = {"half": (rows // 2, 1), "full": (rows, 1)}
    if VCPUS > 1:
        runs["full_all_vcpus"] = (rows, VCPUS)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, (size, threads) in runs.items():
            csv_path = tmp / f"big-{size}.csv"
            n = make_big_csv(data, target, size, csv_path)
            entry = {"rows": n, "threads": threads, "file_mb": csv_path.stat().st_size / 1e6}
            for kind in ("handler", "pandas"):
                sink = tmp / f"{kind}-{name}"
                sink.mkdir()
                entry[kind] = run_worker(
                    f"batch-{kind}", str(run), str(csv_path), str(sink), threads=threads
                )
                entry[kind]["rows_per_s"] = entry[kind]["rows"] / entry[kind]["seconds"]
            entry["throughput_ratio"] = (
                entry["handler"]["rows_per_s"] / entry["pandas"]["rows_per_s"]
            )
            entry["memory_ratio"] = entry["handler"]["peak_rss_mb"] / entry["pandas"]["peak_rss_mb"]
            entry["agreement"] = same_answers(
                tmp / f"handler-{name}" / "scored__big.csv", tmp / f"pandas-{name}" / "scored.csv"
            )
            out[name] = entry
            csv_path.unlink()
    return out


def make_wide_csv(data: Path, target: str, columns: int, rows: int, out: Path) -> int:
    """The data's columns plus filler columns up to `columns`, `rows` rows."""
    import csv

    with open(data, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        drop = header.index(target)
        body = [[c for i, c in enumerate(r) if i != drop] for r in reader]
    names = [h for i, h in enumerate(header) if i != drop]
    extra = max(0, columns - len(names))
    with open(out, "w") as fh:
        fh.write(",".join(names + [f"filler_{i}" for i in range(extra)]) + "\n")
        filler = ",0" * extra
        for i in range(rows):
            fh.write(",".join(body[i % len(body)]) + filler + "\n")
    return rows


def memory_bounds(run: Path, data: Path, target: str, big_mb: int, wide_rows: int) -> dict:
    """Peak RSS of the handler's S3 path on a 1 MB file, a big_mb file and a
    5,000-column file, each in a fresh process on one thread, side by side
    (issue 14's bar: the last two within 2x the first)."""
    with open(data, "rb") as fh:
        sample = fh.read(1 << 20)
    row_bytes = max(1, len(sample) // max(1, sample.count(b"\n")))
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = {
            "1 MB": lambda p: make_big_csv(data, target, (1 << 20) // row_bytes, p),
            f"{big_mb} MB": lambda p: make_big_csv(data, target, (big_mb << 20) // row_bytes, p),
            "5,000 columns": lambda p: make_wide_csv(data, target, 5000, wide_rows, p),
        }
        for name, make in files.items():
            csv_path = tmp / "input.csv"
            rows = make(csv_path)
            sink = tmp / f"sink-{len(out)}"
            sink.mkdir()
            result = run_worker("batch-handler", str(run), str(csv_path), str(sink))
            out[name] = {
                "rows": rows,
                "file_mb": csv_path.stat().st_size / 1e6,
                "rows_scored": result["rows"],
                "seconds": result["seconds"],
                "peak_rss_mb": result["peak_rss_mb"],
            }
            csv_path.unlink()
    base = out["1 MB"]["peak_rss_mb"]
    for entry in out.values():
        entry["rss_ratio_to_1mb"] = entry["peak_rss_mb"] / base
    return out


def same_answers(handler_csv: Path, pandas_csv: Path) -> dict:
    """Both paths must have scored the same rows the same way for the race to count."""
    import numpy as np
    import pandas as pd

    a = pd.read_csv(handler_csv, usecols=["probability", "label"])
    b = pd.read_csv(pandas_csv, usecols=["probability", "label"])
    if len(a) != len(b):
        return {"rows_differ": [len(a), len(b)]}
    return {
        "max_abs_probability_difference": float(np.abs(a.probability - b.probability).max()),
        "labels_equal": float((a.label == b.label).mean()),
    }


def chunked_path(run: Path, data: Path, target: str, rows: int, ranges: int = 8) -> dict:
    """The large-file path (plan, score-range per range, merge) against moto S3,
    beside the whole-file path on the same object, one onnxruntime thread each.
    The ranges run one after another here; deployed they run at once, so a
    child's time is the map's wall time."""
    import boto3
    from moto import mock_aws

    from lambda_fn.batch import merge, plan, score_object
    from lambda_fn.batch.range_job import score_range_task
    from lambda_fn.config import Config
    from lambda_fn.model import Model

    model = Model.from_bytes((run / "model.onnx").read_bytes(), threads=1)
    folder = Path(tempfile.mkdtemp())
    written = make_big_csv(data, target, rows, folder / "big.csv")
    body = (folder / "big.csv").read_bytes()
    config, staging = Config(), "staging/"
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="bench")
        for key in ("incoming/whole.csv", "incoming/big.csv"):
            s3.put_object(Bucket="bench", Key=key, Body=body)
        t = time.perf_counter()
        score_object(s3, "bench", "incoming/whole.csv", model, config)
        whole_seconds = time.perf_counter() - t
        etag = s3.head_object(Bucket="bench", Key="incoming/big.csv")["ETag"].strip('"')
        task = {"bucket": "bench", "key": "incoming/big.csv", "etag": etag, "run": "bench"}
        range_bytes = max(1, len(body) // ranges)
        t = time.perf_counter()
        planned = plan.plan_task(s3, task, staging, range_bytes, model.version)
        plan_seconds = time.perf_counter() - t
        manifest = json.loads(s3.get_object(Bucket="bench", Key=planned["manifest"])["Body"].read())
        child_seconds = []
        for item in manifest:
            t = time.perf_counter()
            score_range_task(s3, {**task, "range": item}, model, config, staging)
            child_seconds.append(time.perf_counter() - t)
        t = time.perf_counter()
        merge.merge_task(s3, task, config, staging, model.threshold)
        merge_seconds = time.perf_counter() - t
        same = all(
            s3.get_object(Bucket="bench", Key=f"{prefix}whole.csv")["Body"].read()
            == s3.get_object(Bucket="bench", Key=f"{prefix}big.csv")["Body"].read()
            for prefix in ("scored/",)
        )
    total = plan_seconds + sum(child_seconds) + merge_seconds
    return {
        "rows": written,
        "file_mb": len(body) / 1e6,
        "ranges": len(manifest),
        "whole_rows_per_s": written / whole_seconds,
        "chunked_rows_per_s": written / total,
        "child_rows_per_s": written / sum(child_seconds),
        "plan_mb_per_s": len(body) / 1e6 / plan_seconds,
        "plan_seconds": plan_seconds,
        "children_seconds": sum(child_seconds),
        "longest_child_seconds": max(child_seconds),
        "merge_seconds": merge_seconds,
        "merge_share": merge_seconds / total,
        "plan_share": plan_seconds / total,
        "identical_scored_csv": same,
    }


def chunked_markdown(c: dict) -> list[str]:
    return [
        "## Large files: plan + ranges + merge",
        "",
        f"{c['rows']:,} rows ({c['file_mb']:.0f} MB) scored by the chunked path in "
        f"{c['ranges']} ranges against moto S3 (in process), beside the whole-file "
        "path on the same object; one onnxruntime thread each, ranges one after "
        "another (deployed, they run at once).",
        "",
        "| whole file rows/s | chunked rows/s (plan + all ranges + merge) | one range rows/s "
        "| plan MB/s | plan share | merge share | scored CSV identical |",
        "|---|---|---|---|---|---|---|",
        f"| {c['whole_rows_per_s']:,.0f} | {c['chunked_rows_per_s']:,.0f} | "
        f"{c['child_rows_per_s']:,.0f} | {c['plan_mb_per_s']:,.0f} | "
        f"{c['plan_share']:.1%} | {c['merge_share']:.1%} | {c['identical_scored_csv']} |",
        "",
        "The plan reads the whole object once (from moto's memory here, so its MB/s",
        "is the scan's own speed, not S3's); the merge copies server-side, so its",
        "share shrinks as ranges grow.",
        "",
    ]


def operator_profile(run: Path, data: Path, target: str, rows: int = 50_000) -> dict:
    """Share of onnxruntime kernel time per operator type, one thread."""
    import numpy as np
    import onnxruntime as ort

    from lambda_fn.batch import csv_reader, scoring
    from lambda_fn.model import Model

    model = Model.load(str(run / "model.onnx"))
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "sample.csv"
        make_big_csv(data, target, rows, csv_path)
        with open(csv_path, "rb") as fh:
            records = csv_reader.Records(fh)
            _, header = records.header()
            chunk = records.take(rows, len(header))
    index = {name: header.index(name) for name in model.schema.names}
    columns = {}
    for f in model.schema.features:
        cells = chunk.fields[index[f.name] :: len(header)]
        columns[f.name] = (
            scoring.numbers(cells)[0]
            if f.kind == "numeric"
            else np.array(scoring.categories(cells), dtype=object)
        ).reshape(-1, 1)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.enable_profiling = True
    options.profile_file_prefix = str(Path(tempfile.gettempdir()) / "ort-profile")
    session = ort.InferenceSession(model.data, options)
    session.run(None, columns)
    path = Path(session.end_profiling())
    totals = collections.Counter()
    for event in json.loads(path.read_text()):
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            totals[event["args"]["op_name"]] += event["dur"]
    path.unlink(missing_ok=True)
    whole = sum(totals.values()) or 1
    return {op: round(t / whole, 3) for op, t in totals.most_common(5)}


# ---------------------------------------------------------------- 3. cold start

COLD = {
    "handler": "import lambda_fn.app",
    "pandas_sklearn_xgboost": (
        "import pandas, sklearn, xgboost, joblib\n"
        "joblib.load(os.environ['RUN_DIR'] + '/model.joblib')"
    ),
    "tensorflow_keras": (
        "import tensorflow as tf, keras\nkeras.saving.load_model(os.environ['KERAS_FILE'])"
    ),
}


def cold_start(run: Path, keras_file: Path | None, runs: int) -> dict:
    from scripts import invoke_rie

    env = {
        **os.environ,
        **invoke_rie.image_environment(),  # the image's ENV lines, for every path alike
        **QUIET,
        "MODEL_PATH": str(run / "model.onnx"),
        "PYTHONPATH": str(ROOT),
        "RUN_DIR": str(run),
        "KERAS_FILE": str(keras_file or ""),
    }
    env.pop("AWS_XRAY_DAEMON_ADDRESS", None)
    out = {}
    for name, body in COLD.items():
        if name == "tensorflow_keras" and keras_file is None:
            continue
        code = f"import os, time\nt = time.perf_counter()\n{body}\nprint(time.perf_counter() - t)"
        samples = []
        for _ in range(runs):
            proc = subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                env=env,
                timeout=300,
                check=True,
            )
            samples.append(float(proc.stdout.strip().splitlines()[-1]))
        out[name] = {
            "median_ms": statistics.median(samples) * 1000,
            "runs": runs,
            "min_ms": min(samples) * 1000,
            "max_ms": max(samples) * 1000,
        }
    return out


def rie_cold_start(run: Path, runs: int) -> dict:
    """INIT under the real runtime (RIE + awslambdaric, as Lambda's user), tracing on and off."""
    from scripts import invoke_rie

    try:
        invoke_rie.rie_binary()
    except invoke_rie.RieError as exc:
        return {"skipped": str(exc)}
    out = {"runs": runs}
    for name, tracing in (("tracing_on", True), ("tracing_off", False)):
        samples = invoke_rie.cold_starts(run / "model.onnx", runs, tracing)
        out[name] = {
            "median_ms": statistics.median(samples),
            "min_ms": min(samples),
            "max_ms": max(samples),
        }
    return out


# ---------------------------------------------------------------- 4. size


def _requirement_names(path: Path) -> list[str]:
    names = []
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            if ";" in line and "linux" not in line.split(";")[1] and "sys_platform" in line:
                continue
            names.append(re.split(r"[=<>!~\[; ]", line)[0])
    return names


def _closure(names: list[str]) -> dict[str, int]:
    """Installed bytes of each distribution in the dependency closure."""
    seen: dict[str, int] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        size = 0
        for f in dist.files or []:
            path = Path(f.locate())
            if path.is_file():
                size += path.stat().st_size
        seen[key] = size
        for req in dist.requires or []:
            if "extra ==" in req:
                continue
            todo.append(re.split(r"[=<>!~\[; (]", req)[0])
    return seen


def deployment_size(run: Path, keras_run: Path | None) -> dict:
    serving = _closure(_requirement_names(ROOT / "lambda_fn" / "requirements.txt"))
    sklearn_stack = _closure(
        [
            "pandas",
            "scikit-learn",
            "imbalanced-learn",
            "xgboost-cpu",
            "joblib",
            "boto3",
            "aws-lambda-powertools",
        ]
    )
    tf_stack = _closure(
        [
            "pandas",
            "scikit-learn",
            "imbalanced-learn",
            "tensorflow-cpu",
            "keras",
            "joblib",
            "boto3",
            "aws-lambda-powertools",
        ]
    )
    model_mb = (run / "model.onnx").stat().st_size / 1e6
    mb = 1e6
    out = {
        "serving_mb": sum(serving.values()) / mb + model_mb,
        "serving_packages": len(serving),
        "model_onnx_mb": model_mb,
        "pipeline_xgboost_stack_mb": sum(sklearn_stack.values()) / mb
        + (run / "model.joblib").stat().st_size / mb,
        "pipeline_keras_stack_mb": sum(tf_stack.values()) / mb,
        "largest_serving_packages_mb": {
            k: round(v / mb, 1) for k, v in sorted(serving.items(), key=lambda kv: -kv[1])[:5]
        },
    }
    if keras_run is not None:
        out["pipeline_keras_stack_mb"] += (keras_run / "model.joblib").stat().st_size / mb
    return out


# ---------------------------------------------------------------- 5. training time


def training_times(runs_dir: Path | None) -> dict:
    out = {}
    if runs_dir is None:
        return out
    for name in ("marketing", "marketing-full", "telecom", "telecom-full"):
        path = runs_dir / name / "run.json"
        if path.exists():
            info = json.loads(path.read_text())
            out[name] = {
                "seconds": info.get("elapsed_seconds"),
                "candidates": len(info["learners_searched"]) * len(info["strategies_searched"]),
                "budget": info.get("budget_seconds"),
                "rows": info["data"]["rows"],
                "created": info["created"],
            }
    return out


# ---------------------------------------------------------------- report


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _rie_target_row(r: dict | None) -> list[str]:
    if not r or "skipped" in r:
        return []
    on = r["tracing_on"]["median_ms"]
    return [
        f"| cold start under the real runtime, tracing on ≤ 200 ms | {on:.0f} ms | {_verdict(on <= 200)} |"
    ]


def _rie_section(r: dict | None) -> list[str]:
    if not r:
        return []
    if "skipped" in r:
        return [f"Under the real runtime: not measured ({r['skipped']}).", ""]
    lines = [
        "Under the real runtime: the `INIT REPORT` duration of the Runtime Interface",
        "Emulator running `python -m awslambdaric lambda_fn.app.handler` as a non-root",
        f"user (`scripts/invoke_rie.py`, as `make invoke-rie`), median of {r['runs']} fresh",
        "starts. It includes the runtime client's start, the handler's imports and the",
        "model load; tracing on means X-Ray active, as Lambda sets it for `Tracing: Active`.",
        "",
        "| tracing | median ms | min | max |",
        "|---|---|---|---|",
    ]
    for key, label in (("tracing_on", "on"), ("tracing_off", "off")):
        t = r[key]
        lines.append(f"| {label} | {t['median_ms']:.0f} | {t['min_ms']:.0f} | {t['max_ms']:.0f} |")
    return [*lines, ""]


def memory_markdown(memory: dict) -> list[str]:
    lines = [
        "### Memory does not follow the file's size or width",
        "",
        "The handler's S3 path on a 1 MB file, a large file and a 5,000-column file, each in",
        "a fresh process on one thread (peak resident set, VmHWM). The bar (issue 14): the",
        "large and the wide file within 2x the 1 MB file's peak.",
        "",
        "| file | rows | file MB | rows scored | seconds | peak MB | x the 1 MB file | |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, m in memory.items():
        lines.append(
            f"| {name} | {m['rows']:,} | {m['file_mb']:.1f} | {m['rows_scored']:,} "
            f"| {m['seconds']:.1f} | {m['peak_rss_mb']:.0f} | {m['rss_ratio_to_1mb']:.2f} "
            f"| {_verdict(m['rss_ratio_to_1mb'] <= 2)} |"
        )
    return [*lines, ""]


def markdown(f: dict, command: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Produced by `{command}`",
        "(`make bench`) on this project's machine (2 cores); every comparison was",
        "measured side by side in that one run. Rerun the command to check.",
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "|---|---|---|",
    ]
    s = f["single_record"]["winner"]
    b = f["batch"]["full"]
    c = f["cold_start"]
    z = f["size"]
    lines += [
        f"| single-record p50 ≤ 150 µs | {s['handler']['p50_us']:.0f} µs | "
        f"{_verdict(s['handler']['p50_us'] <= 150)} |",
        f"| ≥ 30× faster than pandas + scikit-learn | {s['speedup_vs_pandas']:.0f}× | "
        f"{_verdict(s['speedup_vs_pandas'] >= 30)} |",
        f"| batch rows/s ≥ 1× pandas (one thread each) | {b['throughput_ratio']:.2f}× | "
        f"{_verdict(b['throughput_ratio'] >= 1)} |",
        f"| batch peak memory ≤ 50 % of pandas | {b['memory_ratio']:.0%} | "
        f"{_verdict(b['memory_ratio'] <= 0.5)} |",
        f"| cold start ≤ 350 ms | {c['handler']['median_ms']:.0f} ms | "
        f"{_verdict(c['handler']['median_ms'] <= 350)} |",
        *_rie_target_row(f.get("cold_start_rie")),
        f"| serving install ≤ 350 MB | {z['serving_mb']:.0f} MB | "
        f"{_verdict(z['serving_mb'] <= 350)} |",
        "",
        "## 1. Single-record `POST /predict`",
        "",
        "In process; p50 and p99 in µs. The calls of each path also split into",
        f"{ROUNDS} consecutive fifths: the spread of their p50s shows how far the",
        "machine's speed moved during the measurement, one path at a time.",
        "",
    ]
    labels = {
        "handler": "`lambda_fn.app.handler`: event JSON in, response JSON out",
        "handler_explain3": 'the same, with `"explain": 3` (top 3 reasons)',
        "pandas_pipeline": "pandas DataFrame from the JSON + pipeline `predict_proba` + `json.dumps`",
        "keras_direct": "the Keras network called directly, `model(x)`, on the encoded row",
        "onnxruntime_run": "bare onnxruntime `run` of the prebuilt row, one thread",
        "onnxruntime_run_all_vcpus": "bare onnxruntime `run`, all vCPUs",
    }
    for name, r in f["single_record"].items():
        lines += [
            f"**{name}** ({r['learner']} + {r['strategy']})",
            "",
            "| path | p50 | p99 | p50 of each fifth, lowest–highest |",
            "|---|---|---|---|",
        ]
        for key, label in labels.items():
            if key in r:
                rounds = r[key].get("round_p50_us")
                spread = f"{min(rounds):.0f}–{max(rounds):.0f}" if rounds else ""
                lines.append(
                    f"| {label} | {r[key]['p50_us']:.0f} | {r[key]['p99_us']:.0f} | {spread} |"
                )
        lines += ["", f"Handler vs pandas path: {r['speedup_vs_pandas']:.0f}× faster at p50.", ""]
        if "explain_cost_ratio" in r:
            lines += [
                f'`"explain": 3` costs {r["explain_cost_ratio"]:.2f}× a plain call (p50).',
                "",
            ]
    lines += [
        "Where the handler's time goes (cProfile, quick-preset winner, own time):",
        "",
        "```",
        *f["handler_profile"],
        "```",
        "",
        "## 2. Batch CSV scoring",
        "",
        "The handler's S3 path (stream, parse, score, write) against pandas `read_csv` +",
        "`predict_proba` + `to_csv`, on the marketing data repeated; each in a fresh",
        "process; S3 is a stand-in on local disk for both (`LocalS3` in the script), so",
        "neither process holds the file in memory. Peak memory is the worker process's own peak resident set (VmHWM).",
        "",
        "| rows | threads each | file MB | handler rows/s | pandas rows/s | ratio | "
        "handler peak MB | pandas peak MB | memory ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in f["batch"].values():
        lines.append(
            f"| {entry['rows']:,} | {entry.get('threads', 1)} | {entry['file_mb']:.0f} "
            f"| {entry['handler']['rows_per_s']:,.0f} "
            f"| {entry['pandas']['rows_per_s']:,.0f} | {entry['throughput_ratio']:.2f} "
            f"| {entry['handler']['peak_rss_mb']:.0f} | {entry['pandas']['peak_rss_mb']:.0f} "
            f"| {entry['memory_ratio']:.2f} |"
        )
    agreements = [entry.get("agreement", {}) for entry in f["batch"].values()]
    if all("max_abs_probability_difference" in a for a in agreements):
        lines += [
            "",
            "Both paths give the same answers in every run: largest probability difference "
            f"{max(a['max_abs_probability_difference'] for a in agreements):.1e}, labels equal "
            f"on {min(a['labels_equal'] for a in agreements):.2%} of rows.",
        ]
    else:
        lines += ["", f"**The two paths scored different rows**: {agreements}."]
    lines += [
        "",
        "Time split at full size, in seconds:",
        "",
        "| phase | handler | pandas |",
        "|---|---|---|",
    ]
    phases = {
        "parse_seconds": "read and parse (handler: chunks to arrays; pandas: `read_csv`)",
        "score_seconds": "score (onnxruntime / the pipeline's `predict_proba`)",
        "write_seconds": "write (handler: rows as they came + 2 cells; pandas: `to_csv`)",
        "total_seconds": "total",
    }
    for key, label in phases.items():
        lines.append(
            f"| {label} | {b['handler']['timings'][key]:.2f} | {b['pandas']['timings'][key]:.2f} |"
        )
    lines += [
        "",
        f"Inside onnxruntime, kernel time by operator: {f['onnxruntime_operator_share']}.",
        "",
    ]
    h, pd_ = b["handler"]["timings"], b["pandas"]["timings"]
    h_rest = h["total_seconds"] - h["score_seconds"]
    pd_rest = pd_["total_seconds"] - pd_["score_seconds"]
    tree_share = max(f["onnxruntime_operator_share"].values())
    lines += [
        f"Scoring takes the handler {h['score_seconds']:.1f} s, {tree_share:.0%} of it in",
        "onnxruntime's tree-ensemble kernel, and the pipeline "
        f"{pd_['score_seconds']:.1f} s, its scikit-learn",
        "preprocessing included. Everything else takes the handler "
        f"{h_rest:.1f} s and pandas {pd_rest:.1f} s:",
        f"`read_csv` parses in {pd_['parse_seconds']:.1f} s what the handler's pure-Python "
        f"split takes {h['parse_seconds']:.1f} s for,",
        f"but `to_csv` formats every cell again ({pd_['write_seconds']:.1f} s) where the "
        "handler writes each row",
        f"back as it came plus two cells ({h['write_seconds']:.1f} s).",
    ]
    wide = f["batch"].get("full_all_vcpus")
    if wide:
        wh, wp = wide["handler"]["timings"], wide["pandas"]["timings"]
        lines += [
            "",
            f"With {wide['threads']} threads each (the last row: a Lambda function with "
            f"{wide['threads']} vCPUs), the handler",
            f"runs at {wide['throughput_ratio']:.2f}× pandas' rows/s. Scoring takes the "
            f"handler {wh['score_seconds']:.1f} s",
            f"(one thread: {h['score_seconds']:.1f} s) and the pipeline "
            f"{wp['score_seconds']:.1f} s (one thread: {pd_['score_seconds']:.1f} s);",
            "parsing and writing stay on one thread on both sides.",
        ]
    lines.append("")
    if "memory" in f:
        lines += memory_markdown(f["memory"])
    lines += [
        "## 3. Cold start",
        "",
        f"Fresh process, median of {c['handler']['runs']} runs.",
        "",
        "| what | median ms | min | max |",
        "|---|---|---|---|",
    ]
    cold_labels = {
        "handler": "import `lambda_fn.app` and load the ONNX model",
        "pandas_sklearn_xgboost": "import pandas + scikit-learn + xgboost, load the pipeline",
        "tensorflow_keras": "import TensorFlow, load the Keras model",
    }
    for key, label in cold_labels.items():
        if key in c:
            lines.append(
                f"| {label} | {c[key]['median_ms']:.0f} | {c[key]['min_ms']:.0f} "
                f"| {c[key]['max_ms']:.0f} |"
            )
    lines += [
        "",
        "X-Ray is off here. With tracing active the API path still imports no",
        "aws_xray_sdk: the S3 path creates the tracer on its first event.",
        "",
        *_rie_section(f.get("cold_start_rie")),
        "## 4. Deployment size",
        "",
        "Installed bytes of each dependency closure, read from the installed",
        "packages' file lists, plus the model file.",
        "",
        "| stack | MB |",
        "|---|---|",
        f"| `lambda_fn/requirements.txt` + `model.onnx` ({z['model_onnx_mb']:.1f} MB) | "
        f"{z['serving_mb']:.0f} |",
        f"| pandas + scikit-learn + imbalanced-learn + XGBoost (+ boto3, Powertools) + "
        f"pipeline | {z['pipeline_xgboost_stack_mb']:.0f} |",
        f"| the same with TensorFlow + Keras, to serve the network | "
        f"{z['pipeline_keras_stack_mb']:.0f} |",
        "",
        f"Largest serving packages (MB): {z['largest_serving_packages_mb']}.",
        "",
        "## 5. Training time",
        "",
    ]
    if f["training"]:
        lines += [
            "| run | rows | learners × strategies | budget s | seconds |",
            "|---|---|---|---|---|",
        ]
        for name, t in f["training"].items():
            secs = f"{t['seconds']:.0f}" if t["seconds"] is not None else "not recorded"
            budget = f"{t['budget']:.0f}" if t.get("budget") else ""
            lines.append(f"| {name} | {t['rows']:,} | {t['candidates']} | {budget} | {secs} |")
        lines += ["", "From the run folders of `make results` (`elapsed_seconds` in run.json).", ""]
    else:
        lines += ["No run folders given (`--runs`); `make results` writes them.", ""]
    if "chunked" in f:
        lines += chunked_markdown(f["chunked"])
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="benchmarks")
    p.add_argument("--run", default=str(ROOT / "artifacts"), help="quick-preset winner, exported")
    p.add_argument("--keras-run", help="a Keras run folder, exported")
    p.add_argument("--data", default=str(ROOT / "data" / "marketing_data.csv"))
    p.add_argument("--target", default="y")
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--memory-mb", type=int, default=200, help="size of the large file (memory)")
    p.add_argument("--wide-rows", type=int, default=2000, help="rows of the 5,000-column file")
    p.add_argument("--requests", type=int, default=5000)
    p.add_argument("--cold-runs", type=int, default=10)
    p.add_argument("--rie-runs", type=int, default=7, help="fresh starts under the real runtime")
    p.add_argument("--runs", help="folder with the run folders of `make results`")
    p.add_argument("--json", help="write the figures here")
    p.add_argument("--markdown", help="write the report here")
    p.add_argument(
        "--only",
        choices=["memory"],
        help="run one section and print it (no --keras-run or --runs needed)",
    )
    p.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    os.environ.update(QUIET)
    if args.worker:
        kind, *rest = args.worker
        worker = batch_handler_worker if kind == "batch-handler" else batch_pandas_worker
        result = worker(*rest)
        result["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(result))
        return 0
    run, data = Path(args.run), Path(args.data)
    if args.only == "memory":
        memory = memory_bounds(run, data, args.target, args.memory_mb, args.wide_rows)
        print("\n".join(memory_markdown(memory)))
        if args.json:
            Path(args.json).write_text(json.dumps({"memory": memory}, indent=2) + "\n")
        return 0
    keras_run = Path(args.keras_run) if args.keras_run else None
    os.environ["MODEL_PATH"] = str(run / "model.onnx")
    figures = {"single_record": {"winner": single_record(run, data, args.requests)}}
    keras_file = None
    if keras_run is not None:
        figures["single_record"]["keras"] = single_record(keras_run, data, args.requests)
        import joblib

        net = dict(joblib.load(keras_run / "model.joblib").inference_steps())["model"].model_
        keras_file = Path(tempfile.mkdtemp()) / "network.keras"
        net.save(keras_file)
    figures["handler_profile"] = handler_profile(run, data)
    figures["batch"] = batch_compare(run, data, args.target, args.rows)
    figures["chunked"] = chunked_path(run, data, args.target, args.rows)
    figures["memory"] = memory_bounds(run, data, args.target, args.memory_mb, args.wide_rows)
    figures["onnxruntime_operator_share"] = operator_profile(run, data, args.target)
    figures["cold_start"] = cold_start(run, keras_file, args.cold_runs)
    figures["cold_start_rie"] = rie_cold_start(run, args.rie_runs)
    figures["size"] = deployment_size(run, keras_run)
    figures["training"] = training_times(Path(args.runs) if args.runs else None)
    command = "python scripts/bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    report = markdown(figures, command)
    print(report)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    if args.markdown:
        Path(args.markdown).write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
