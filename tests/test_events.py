"""Every sample event in infra/events/ works as the docs say: through the
handler, with S3 on a moto server holding the sample file the S3 events name
(`make invoke-local`'s setup), each S3 or SQS event against a fresh bucket, so
that each one must score the file itself."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

from tests.conftest import ROOT, shared_csv, train_and_export

EVENTS = sorted((ROOT / "infra" / "events").glob("*.json"))

# Runs in a subprocess: it loads the handler with its own model and S3 endpoint,
# which must not leak into the other tests' handler.
RUN = r"""
import json, os, sys
from pathlib import Path
from moto.server import ThreadedMotoServer
sys.path.insert(0, os.getcwd())
from scripts.invoke_local import free_port, sample_csv

port = free_port()
server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
server.start()
os.environ.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="local",
                  AWS_SECRET_ACCESS_KEY="local", AWS_DEFAULT_REGION="us-east-1")
import boto3
from lambda_fn import app

s3 = boto3.resource("s3")
out = {}
for path in sys.argv[2:]:
    event = json.loads(Path(path).read_text())
    record = (event.get("Records") or [{}])[0]
    if "body" in record:  # SQS: the S3 notification is the message body
        record = json.loads(record["body"])["Records"][0]
    keys = None
    if "s3" in record:
        bucket = s3.Bucket(record["s3"]["bucket"]["name"])
        if bucket.creation_date:
            bucket.objects.all().delete()
            bucket.delete()
        bucket.create()
        bucket.put_object(Key=record["s3"]["object"]["key"], Body=Path(sys.argv[1]).read_bytes())
    result = app.handler(event, None)
    if "s3" in record:
        keys = sorted(o.key for o in bucket.objects.all())
    out[Path(path).name] = {"result": result, "keys": keys}
server.stop()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    """A quick model on a sample of the demo data (the events carry its columns)."""
    from scripts.invoke_local import sample_csv

    folder = tmp_path_factory.mktemp("events")
    lines = shared_csv("marketing_data.csv").read_text().splitlines()
    data = folder / "marketing.csv"
    rows = random.Random(5).sample(lines[1:], 3000)  # noqa: S311 - a reproducible sample
    data.write_text("\n".join([lines[0], *rows]) + "\n")
    run = train_and_export(
        data, folder / "run", "--positive", "yes", "--models", "logreg", "--samplers", "none",
        "--folds", "3",
    )  # fmt: skip
    sample = folder / "sample.csv"
    sample.write_bytes(sample_csv(data, "y", 50))
    env = {
        "PATH": "/usr/bin:/bin",
        "MODEL_PATH": str(run / "model.onnx"),
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    out = subprocess.run(
        [sys.executable, "-c", RUN, str(sample), *map(str, EVENTS)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.splitlines()[-1])


def test_there_are_api_s3_and_sqs_samples():
    names = {p.name for p in EVENTS}
    assert {"api-predict-v1.json", "api-predict-v2.json", "s3-put.json", "sqs-s3-put.json"} <= names


@pytest.mark.parametrize("name", [p.name for p in EVENTS if p.name.startswith("api-")])
def test_each_api_sample_is_answered_200(answers, name):
    result = answers[name]["result"]
    assert result["statusCode"] == 200, result["body"][:500]


@pytest.mark.parametrize("name", [p.name for p in EVENTS if not p.name.startswith("api-")])
def test_each_file_sample_scores_the_uploaded_file(answers, name):
    """Scored rows and an errors file (the sample's one bad row) are written, and
    an SQS delivery reports no failed message: nothing is 'superseded'."""
    answer = answers[name]
    keys = answer["keys"]
    assert any(k.startswith("scored/") for k in keys), (keys, answer["result"])
    assert any(k.startswith("errors/") for k in keys), keys
    assert any(k.startswith("summaries/") for k in keys), keys
    if "batchItemFailures" in answer["result"]:
        assert answer["result"]["batchItemFailures"] == []


def test_the_sqs_sample_names_no_made_up_etag():
    """An ETag in a sample that matches no uploaded file makes the function skip
    the file as superseded; the samples carry none."""
    for path in EVENTS:
        assert "eTag" not in path.read_text(), path.name
