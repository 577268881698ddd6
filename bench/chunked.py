"""Large files: the chunked path (plan, score each byte range, merge) against
the whole-file path on the same object, on moto S3."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from bench.inputs import make_big_csv


def chunked_path(run: Path, data: Path, target: str, rows: int, ranges: int = 8) -> dict:
    """The large-file path (plan, score-range per range, merge) against moto S3,
    beside the whole-file path on the same object, one onnxruntime thread each.
    The ranges run one after another here; deployed they run at once, so a
    child's time is the map's wall time."""
    import boto3
    from moto import mock_aws

    from lambda_fn.batch import score_object
    from lambda_fn.batch.chunked import merge, plan
    from lambda_fn.batch.chunked.range_job import score_range_task
    from lambda_fn.config import Config
    from lambda_fn.model import Model

    model = Model.from_bytes((run / "model.onnx").read_bytes(), threads=1)
    with tempfile.TemporaryDirectory() as folder:
        written = make_big_csv(data, target, rows, Path(folder) / "big.csv")
        body = (Path(folder) / "big.csv").read_bytes()
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
        same = (
            s3.get_object(Bucket="bench", Key="scored/whole.csv")["Body"].read()
            == s3.get_object(Bucket="bench", Key="scored/big.csv")["Body"].read()
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


def markdown(c: dict) -> list[str]:
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
