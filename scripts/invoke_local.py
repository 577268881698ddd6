"""Run the sample events in infra/events/ through lambda_fn.app.handler in this
process, with no Docker: the API events as they are, and the S3 event against
moto's S3 server on 127.0.0.1 (started here and stopped at the end), after
uploading a sample CSV built from the demo data.

    python scripts/invoke_local.py --model artifacts/model.onnx --data data/marketing_data.csv
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "infra" / "events"
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sample_csv(data: Path, target: str, rows: int) -> bytes:
    """The first rows of the demo data without the target, plus one bad row."""
    with open(data, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        drop = header.index(target) if target in header else None
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([h for i, h in enumerate(header) if i != drop])
        for k, row in enumerate(reader):
            if k >= rows:
                break
            writer.writerow([c for i, c in enumerate(row) if i != drop])
        bad = ["not-a-number" if h == "age" else "" for h in header if h != target]
        writer.writerow(bad)
    return out.getvalue().encode()


def show(title: str, payload) -> None:
    print(f"\n== {title}")
    print(json.dumps(payload, indent=2)[:3000])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(ROOT / "artifacts" / "model.onnx"))
    p.add_argument("--data", default=str(ROOT / "data" / "marketing_data.csv"))
    p.add_argument("--target", default="y")
    p.add_argument("--rows", type=int, default=200)
    args = p.parse_args(argv)
    if not Path(args.model).exists():
        print(f"error: no model at {args.model}; run `make export` first", file=sys.stderr)
        return 2
    os.environ["MODEL_PATH"] = args.model
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from lambda_fn import app

    for name in (
        "api-predict-v2.json",
        "api-predict-v1.json",
        "api-schema.json",
        "api-health.json",
    ):
        event = json.loads((EVENTS / name).read_text())
        response = app.handler(event, None)
        show(f"{name} -> HTTP {response['statusCode']}", json.loads(response["body"]))

    if not Path(args.data).exists():
        print(f"\n(skipping the S3 event: no {args.data}; run `make data`)")
        return 0
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        os.environ.update(
            AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
            AWS_ACCESS_KEY_ID="local",
            AWS_SECRET_ACCESS_KEY="local",  # noqa: S106 - moto's dummy credentials, local only
            AWS_DEFAULT_REGION="us-east-1",
        )
        import boto3

        s3 = boto3.client("s3")
        event = json.loads((EVENTS / "s3-put.json").read_text())
        bucket = event["Records"][0]["s3"]["bucket"]["name"]
        key = event["Records"][0]["s3"]["object"]["key"]
        s3.create_bucket(Bucket=bucket)
        s3.put_object(
            Bucket=bucket, Key=key, Body=sample_csv(Path(args.data), args.target, args.rows)
        )
        print(f"\n== uploaded s3://{bucket}/{key} to moto on 127.0.0.1:{port}")
        result = app.handler(event, None)
        summary = result["files"][0]
        show("s3-put.json -> summary", summary)
        listing = s3.list_objects_v2(Bucket=bucket)["Contents"]
        print("\n== objects in the bucket")
        for obj in listing:
            print(f"  s3://{bucket}/{obj['Key']}  ({obj['Size']} bytes)")
        queued = json.loads((EVENTS / "sqs-s3-put.json").read_text())
        show(
            "sqs-s3-put.json (the same file, as the deployed queue delivers it) -> "
            "partial batch response",
            app.handler(queued, None),
        )
        scored = s3.get_object(Bucket=bucket, Key=summary["outputs"]["scored"])["Body"].read()
        print("\n== first lines of " + summary["outputs"]["scored"])
        print("\n".join(scored.decode().splitlines()[:4]))
        if "errors" in summary["outputs"]:
            errors = s3.get_object(Bucket=bucket, Key=summary["outputs"]["errors"])["Body"].read()
            print("\n== " + summary["outputs"]["errors"])
            print(errors.decode().strip())
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
