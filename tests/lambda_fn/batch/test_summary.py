"""The summary document: whichever path writes it and whatever its status, the
same fields come first and `source` has one shape, with the version id on a
versioned bucket."""

import gzip
import json

import boto3
import pytest
from moto import mock_aws

import lambda_fn.batch.summary as summaries
from lambda_fn.batch import chunked, score_object
from lambda_fn.batch.chunked import merge
from lambda_fn.config import Config
from tests.lambda_fn.batch.chunked.test_tasks import BUCKET, CONFIG, STAGING, run_all, upload
from tests.lambda_fn.test_batch import features_csv

HEAD = ["key", "source", "model_version", "threshold", "run_id", "started_at", "status"]
SOURCE = {"bucket", "key", "etag", "version_id", "bytes"}


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield client


def stored(s3, name):
    return json.loads(s3.get_object(Bucket=BUCKET, Key=f"summaries/{name}.json")["Body"].read())


def test_every_path_and_status_writes_the_same_head_and_source(s3, model):
    written = {}
    whole = upload(s3, "incoming/whole.csv", features_csv(20).encode())
    score_object(s3, BUCKET, "incoming/whole.csv", model, CONFIG)
    written["whole, scored"] = (whole, stored(s3, "whole.csv"))
    big = upload(s3, "incoming/big.csv", features_csv(40).encode())
    merge.begin_run(s3, big, CONFIG, model.version, model.threshold)
    written["chunked, pending"] = (big, stored(s3, "big.csv"))
    run_all(s3, model, big, 300)
    written["chunked, scored"] = (big, stored(s3, "big.csv"))
    lost = upload(s3, "incoming/lost.csv", features_csv(10).encode())
    merge.begin_run(s3, lost, CONFIG, model.version, model.threshold)  # then the plan failed
    error = {"Error": "States.TaskFailed", "Cause": "the plan failed"}
    merge.fail_task(s3, {**lost, "error": error}, CONFIG, STAGING, model.version, model.threshold)
    written["chunked, failed"] = (lost, stored(s3, "lost.csv"))
    packed = upload(s3, "incoming/packed.csv.gz", gzip.compress(features_csv(50).encode()))
    config = Config(state_machine_arn="arn:sm", gzip_max_bytes=10)
    chunked.route(s3, BUCKET, "incoming/packed.csv.gz", model, config)
    written["gzip, rejected"] = (packed, stored(s3, "packed.csv.gz"))
    for what, (task, summary) in written.items():
        assert list(summary)[: len(HEAD)] == HEAD, what
        assert set(summary["source"]) == SOURCE, what
        assert summary["source"]["version_id"] == task["version"], what
        assert summary["source"]["etag"] == task["etag"], what
        assert summary["started_at"] and summary["model_version"] == model.version, what


def test_a_source_names_a_version_only_when_the_bucket_keeps_them():
    assert "version_id" not in summaries.source("b", "k", "e", None, 1)
    assert "version_id" not in summaries.source("b", "k", "e", "", 1)
    # What S3 answers for an object written while versioning was off or suspended.
    assert "version_id" not in summaries.source("b", "k", "e", "null", 1)
    assert summaries.source("b", "k", "e", "v1", 1)["version_id"] == "v1"
