"""The scoring state machine (infra/statemachine/scoring.asl.json) run by moto's
Step Functions interpreter, its Lambda tasks answered by the in-process handler."""

import io
import json
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend

from lambda_fn import batch
from lambda_fn.batch.chunked import router
from lambda_fn.config import Config
from lambda_fn.model import Model
from tests.lambda_fn.test_batch import features_csv, messy_body, s3_event

ROOT = Path(__file__).resolve().parents[4]
DEFINITION = ROOT / "infra" / "statemachine" / "scoring.asl.json"
BUCKET = "scoring"
REGION = "us-east-1"


def definition(function_arn: str) -> str:
    text = DEFINITION.read_text()
    for name, value in {
        "ChunkFunctionArn": function_arn,
        "MaxConcurrency": "4",
        "TaskTimeoutSeconds": "900",
    }.items():
        text = text.replace("${" + name + "}", value)
    return text


class Tasks:
    """Lambda invocations of the state machine, answered by app.handler; `fail`
    makes matching tasks raise, as a crashed child would."""

    def __init__(self, app):
        self.app = app
        self.calls: list[dict] = []
        self.fail = None

    def invoke(self, backend, function_name, qualifier, body, headers, response_headers):
        event = json.loads(body)
        self.calls.append(event)
        try:
            if self.fail and self.fail(event):
                raise RuntimeError(f"injected failure in {event['task']}")
            result = self.app.handler(event, None)
        except Exception as exc:  # noqa: BLE001 - returned as Lambda returns a function error
            response_headers["x-amz-function-error"] = "Unhandled"
            result = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
        return json.dumps(result).encode()


@pytest.fixture
def aws(app, monkeypatch):
    config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    with mock_aws(config=config):
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(
            RoleName="scoring", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
        )["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("app.py", "def handler(event, context):\n    return event\n")
        function = boto3.client("lambda", region_name=REGION).create_function(
            FunctionName="chunk",
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": code.getvalue()},
        )["FunctionArn"]
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = sfn.create_state_machine(
            name="scoring", definition=definition(function), roleArn=role
        )["stateMachineArn"]
        tasks = Tasks(app)
        monkeypatch.setattr(
            LambdaSimpleBackend,
            "invoke",
            lambda backend, *args: tasks.invoke(backend, *args),
        )
        monkeypatch.setattr(router, "_sfn", sfn)
        # Several vCPUs, whatever this machine has: ranges must reproduce one
        # invocation byte for byte however the rows are shared out.
        model, config = app.MODEL, app.CONFIG
        chunked = replace(
            config, state_machine_arn=machine, inplace_max_bytes=2000, range_bytes=1500
        )
        app.use_model(Model.from_bytes(model.data, threads=4), chunked)
        app._s3_client = s3
        yield s3, sfn, machine, tasks
        app._s3_client = None
        app.use_model(model, config)


def finished(sfn, machine, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = sfn.list_executions(stateMachineArn=machine)["executions"]
        if runs and all(r["status"] != "RUNNING" for r in runs):
            return [sfn.describe_execution(executionArn=r["executionArn"]) for r in runs]
        time.sleep(0.05)
    raise AssertionError("the execution did not finish")


def body_of(s3, key):
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def keys(s3, prefix=""):
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return sorted(o["Key"] for o in listed)


def scored_whole(s3, app, body: bytes) -> dict:
    """The same bytes scored by the whole-file path, in one invocation."""
    s3.put_object(Bucket=BUCKET, Key="incoming/whole.csv", Body=body)
    summary = batch.score_object(s3, BUCKET, "incoming/whole.csv", app.MODEL, Config())
    return {
        "summary": summary,
        "scored": body_of(s3, "scored/whole.csv"),
        "errors": body_of(s3, "errors/whole.csv"),
    }


def big_messy_body(copies: int) -> bytes:
    """messy_body's rows (quoted newlines, CRLF, bad rows) repeated under one header."""
    body = messy_body()
    header, rows = body.split(b"\n", 1)
    return header + b"\n" + rows * copies


def test_a_file_over_the_budget_is_scored_by_the_state_machine_as_one_invocation_would(
    app, aws, monkeypatch
):
    s3, sfn, machine, tasks = aws
    body = big_messy_body(6)
    s3.put_object(Bucket=BUCKET, Key="incoming/big.csv", Body=body)
    result = app.handler(s3_event("incoming/big.csv"), None)
    assert result["files"][0]["status"] == "chunked"
    (execution,) = finished(sfn, machine)
    assert execution["status"] == "SUCCEEDED", execution
    ranges = [c for c in tasks.calls if c["task"] == "score-range"]
    assert len(ranges) >= 4
    whole = scored_whole(s3, app, body)
    assert body_of(s3, "scored/big.csv") == whole["scored"]
    assert body_of(s3, "errors/big.csv") == whole["errors"]
    summary = json.loads(body_of(s3, "summaries/big.csv.json"))
    counts = ("rows_in", "rows_scored", "rows_rejected")
    assert {k: summary[k] for k in counts} == {k: whole["summary"][k] for k in counts}
    assert summary["status"] == "scored"
    assert summary["chunked"]["ranges"] == len(ranges)
    assert keys(s3, "staging/") == []
    # The bucket keeps versions: the commit names this one, so the whole-file
    # path takes a later delivery of it for a duplicate.
    again = batch.score_object(s3, BUCKET, "incoming/big.csv", app.MODEL, Config())
    assert again.get("duplicate_delivery") is True and again["run_id"] == summary["run_id"]


def test_a_redelivered_notification_starts_no_second_execution(app, aws):
    s3, sfn, machine, tasks = aws
    s3.put_object(Bucket=BUCKET, Key="incoming/big.csv", Body=big_messy_body(2))
    first = app.handler(s3_event("incoming/big.csv"), None)["files"][0]
    finished(sfn, machine)
    again = app.handler(s3_event("incoming/big.csv"), None)["files"][0]
    assert again["run"] == first["run"]
    assert again.get("duplicate_delivery") is True
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == 1


def test_a_child_that_keeps_failing_publishes_nothing_and_the_summary_says_why(app, aws):
    """On AWS the map itself fails (ToleratedFailurePercentage 0). moto 5.2's
    Distributed Map counts a failed child and carries on, so here it is the
    merge's own check (every range's outputs present) that fails the run:
    either way the catch records the failure and nothing is published."""
    s3, sfn, machine, tasks = aws
    s3.put_object(Bucket=BUCKET, Key="incoming/big.csv", Body=big_messy_body(6))
    tasks.fail = lambda event: event["task"] == "score-range" and event["range"]["index"] == 2
    app.handler(s3_event("incoming/big.csv"), None)
    (execution,) = finished(sfn, machine)
    assert execution["status"] == "FAILED"
    assert execution["error"] == "ScoringFailed"
    assert keys(s3, "scored/") == [] and keys(s3, "errors/") == []
    summary = json.loads(body_of(s3, "summaries/big.csv.json"))
    assert summary["status"] == "failed"
    assert "injected failure in score-range" in summary["reason"] or (
        "MissingParts" in summary["reason"] and "parts/00002" in summary["reason"]
    )
    assert summary["reason"] in execution["cause"]
    assert summary["outputs"] == {}
    assert keys(s3, "staging/") == []


def test_a_failed_plan_is_caught_recorded_and_ends_the_execution_failed(app, aws):
    s3, sfn, machine, tasks = aws
    s3.put_object(Bucket=BUCKET, Key="incoming/big.csv", Body=big_messy_body(2))
    tasks.fail = lambda event: event["task"] == "plan"
    app.handler(s3_event("incoming/big.csv"), None)
    (execution,) = finished(sfn, machine)
    assert execution["status"] == "FAILED"
    assert [c["task"] for c in tasks.calls] == ["plan", "fail"]
    summary = json.loads(body_of(s3, "summaries/big.csv.json"))
    assert summary["reason"] == "RuntimeError: injected failure in plan"
    assert keys(s3, "scored/") == [] and keys(s3, "staging/") == []


def test_a_failed_merge_takes_back_what_it_published(app, aws):
    s3, sfn, machine, tasks = aws
    original = s3.put_object

    def failing_commit(**kw):  # the merge's last step, after scored/ is published
        if kw["Key"] == "summaries/big.csv.json" and b'"status": "scored"' in kw["Body"]:
            raise RuntimeError("injected failure in merge")
        return original(**kw)

    text = features_csv(200, seed=5).encode()
    s3.put_object(Bucket=BUCKET, Key="incoming/big.csv", Body=text)
    s3.put_object = failing_commit
    app.handler(s3_event("incoming/big.csv"), None)
    (execution,) = finished(sfn, machine)
    s3.put_object = original
    assert execution["status"] == "FAILED"
    assert keys(s3, "scored/") == []  # published by the merge, then taken back:
    history = s3.list_object_versions(Bucket=BUCKET, Prefix="scored/big.csv")
    assert len(history["Versions"]) == 1 and len(history["DeleteMarkers"]) == 1
    assert json.loads(body_of(s3, "summaries/big.csv.json"))["status"] == "failed"


def test_a_small_file_is_still_scored_in_place(app, aws):
    s3, sfn, machine, tasks = aws
    s3.put_object(Bucket=BUCKET, Key="incoming/small.csv", Body=features_csv(3).encode())
    result = app.handler(s3_event("incoming/small.csv"), None)
    assert result["files"][0]["status"] == "scored"
    assert sfn.list_executions(stateMachineArn=machine)["executions"] == []


def test_a_file_of_many_megabytes_in_many_ranges_is_byte_identical_to_one_invocation(
    app, aws, monkeypatch
):
    s3, sfn, machine, tasks = aws
    header, messy = big_messy_body(1).split(b"\n", 1)
    plain = features_csv(120_000, seed=7).encode().split(b"\n", 1)[1]
    # Quoted newlines, CRLF and bad rows between long clean stretches, about 12 MB.
    body = header + b"\n" + (messy + plain) * 3 + messy
    assert len(body) > 10_000_000
    app.use_model(app.MODEL, replace(app.CONFIG, range_bytes=512 << 10))
    s3.put_object(Bucket=BUCKET, Key="incoming/large.csv", Body=body)
    app.handler(s3_event("incoming/large.csv"), None)
    (execution,) = finished(sfn, machine, timeout=600)
    assert execution["status"] == "SUCCEEDED", execution
    assert len([c for c in tasks.calls if c["task"] == "score-range"]) >= 20
    whole = scored_whole(s3, app, body)
    assert body_of(s3, "scored/large.csv") == whole["scored"]
    assert body_of(s3, "errors/large.csv") == whole["errors"]
    summary = json.loads(body_of(s3, "summaries/large.csv.json"))
    for k in ("rows_in", "rows_scored", "rows_rejected"):
        assert summary[k] == whole["summary"][k]
    assert summary["rows_rejected"] >= 4 * 4
