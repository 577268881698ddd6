"""The template's IAM policies and the code's S3 calls, read together.

S3 answers a GET or HEAD of a key that does not exist with 404 only when the
caller also holds s3:ListBucket on the bucket; without it, with 403 Access
Denied (the GetObject and HeadObject API references, cited in docs/deploy.md).
The batch code reads "no summary yet", "no lease", "no output to take back"
from a 404, so each function whose code may read a missing key needs
s3:ListBucket on that bucket, granted without a condition: an s3:prefix
condition never matches the check S3 makes for a GET, which is not a list
request and carries no s3:prefix.

moto cannot show this: in its IAM mode (INITIAL_NO_AUTH_ACTION_COUNT, tried
with moto 5.2.5) a user holding only s3:GetObject gets 404 for a missing key;
only the listing itself is denied. So the real code runs against
moto, every S3 call it makes is recorded, and each call is then judged
against the template's policy of the function that runs that code, with the
rules above.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json

import pytest

from lambda_fn.config import Config
from tests.lambda_fn.conftest import bucket_for
from tests.lambda_fn.test_batch import features_csv
from tests.test_infra import _template

BUCKET = "stack-scoring-123456789012-us-east-1"
BUCKET_IN_TEMPLATE = "${AWS::StackName}-scoring-${AWS::AccountId}-${AWS::Region}"
OBJECT_ACTIONS = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "UploadPartCopy": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "CopyObject": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "DeleteObject": "s3:DeleteObject",
}


class Recorder:
    """Every S3 call a client makes: operation, parameters, HTTP status."""

    def __init__(self, client):
        self.calls: list[dict] = []
        client.meta.events.register("before-parameter-build.s3", self._params)
        client.meta.events.register("after-call.s3", self._answer)

    def _params(self, params, model, context, **_kw):
        context["recorded_params"] = dict(params)

    def _answer(self, http_response, model, context, **_kw):
        params = context.get("recorded_params", {})
        self.calls.append({"op": model.name, "status": http_response.status_code, **params})


def _policy(name: str) -> list[dict]:
    """The Allow/Deny statements of one function, the bucket's name filled in."""
    function = _template()["Resources"][name]["Properties"]
    text = json.dumps([p for p in function["Policies"] if isinstance(p, dict)])
    text = text.replace(BUCKET_IN_TEMPLATE, BUCKET).replace("${AWS::Partition}", "aws")
    return [s for policy in json.loads(text) for s in policy.get("Statement", [])]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: dict | None, context: dict) -> bool:
    """IAM's rule for the conditions these policies may use: every key must be
    in the request's context and match; a key the request lacks never matches."""
    for operator, tests in (condition or {}).items():
        for key, patterns in tests.items():
            if key not in context or operator not in ("StringLike", "StringEquals"):
                return False
            match = fnmatch.fnmatchcase if operator == "StringLike" else str.__eq__
            if not any(match(context[key], p) for p in _as_list(patterns)):
                return False
    return True


def allowed(statements: list[dict], action: str, resource: str, context: dict) -> bool:
    def applies(s):
        return (
            any(fnmatch.fnmatchcase(action, a) for a in _as_list(s["Action"]))
            and any(fnmatch.fnmatchcase(resource, r) for r in _as_list(s["Resource"]))
            and _condition_holds(s.get("Condition"), context)
        )

    effects = [s["Effect"] for s in statements if applies(s)]
    return "Allow" in effects and "Deny" not in effects


def requests(call: dict) -> list[tuple[str, str, dict]]:
    """(action, resource, condition context) that S3 authorises for one call."""
    bucket = f"arn:aws:s3:::{call['Bucket']}"
    if call["op"] == "ListObjectsV2":
        return [("s3:ListBucket", bucket, {"s3:prefix": call.get("Prefix", "")})]
    if call["op"] == "DeleteObjects":
        keys = [o["Key"] for o in call["Delete"]["Objects"]]
        return [("s3:DeleteObject", f"{bucket}/{k}", {}) for k in keys]
    action = OBJECT_ACTIONS[call["op"]]
    if call.get("VersionId") and action in ("s3:GetObject", "s3:DeleteObject"):
        action += "Version"
    found = [(action, f"{bucket}/{call['Key']}", {})]
    source = call.get("CopySource")
    if source:
        source_key = source["Key"] if isinstance(source, dict) else source.split("/", 1)[1]
        found.append(("s3:GetObject", f"{bucket}/{source_key}", {}))
    return found


def judge(statements: list[dict], calls: list[dict]) -> list[str]:
    """What S3 would refuse, or answer 403 instead of 404, under these statements."""
    wrong = []
    for call in calls:
        for action, resource, context in requests(call):
            if not allowed(statements, action, resource, context):
                wrong.append(f"{call['op']} {resource}: {action} not granted")
        # The check S3 makes to say 404: s3:ListBucket on the bucket, in a
        # request that is not a list request (no s3:prefix in its context).
        missing = call["op"] in ("GetObject", "HeadObject") and call["status"] == 404
        if missing and not allowed(statements, "s3:ListBucket", f"arn:aws:s3:::{BUCKET}", {}):
            wrong.append(f"{call['op']} {call['Key']} (missing) would be 403, not 404")
    return wrong


@pytest.fixture
def s3(app):
    with bucket_for(app, BUCKET) as client:
        yield client


def _sqs_event(key: str) -> dict:
    notification = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": BUCKET}, "object": {"key": key}},
            }
        ]
    }
    record = {
        "messageId": "m-1",
        "body": json.dumps(notification),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:files",
    }
    return {"Records": [record]}


def test_each_path_runs_in_the_function_the_template_says():
    template = _template()
    resources = template["Resources"]
    batch_events = resources["BatchFunction"]["Properties"]["Events"].values()
    assert [e["Type"] for e in batch_events] == ["SQS"]
    invoked = [
        p["LambdaInvokePolicy"]["FunctionName"]
        for p in resources["ScoringStateMachine"]["Properties"]["Policies"]
        if "LambdaInvokePolicy" in p
    ]
    assert invoked == ["ChunkFunction"]
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    defaults = Config()
    for name in ("input", "scored", "errors", "summary", "lease"):
        assert env[f"{name.upper()}_PREFIX"] == getattr(defaults, f"{name}_prefix")
    assert env["STAGING_PREFIX"] == "staging/"


def test_every_batch_function_read_of_a_missing_key_is_a_404_under_its_policy(app, s3):
    """A new file's first delivery (no summary, no lease yet), then its redelivery."""
    s3.put_object(Bucket=BUCKET, Key="incoming/new.csv", Body=features_csv(30).encode())
    recorder = Recorder(s3)
    assert app.handler(_sqs_event("incoming/new.csv"), None) == {"batchItemFailures": []}
    assert app.handler(_sqs_event("incoming/new.csv"), None) == {"batchItemFailures": []}
    missing = [c for c in recorder.calls if c["status"] == 404]
    assert any(c["Key"].startswith("summaries/") for c in missing), recorder.calls
    assert judge(_policy("BatchFunction"), recorder.calls) == []


def test_every_chunk_function_read_of_a_missing_key_is_a_404_under_its_policy(app, s3, monkeypatch):
    """A large file's tasks as the state machine runs them, then a failed run's clean-up."""
    from lambda_fn import app as function

    monkeypatch.setattr(function, "CONFIG", dataclasses.replace(function.CONFIG, range_bytes=1000))
    body = features_csv(200).encode()
    etag = s3.put_object(Bucket=BUCKET, Key="incoming/big.csv", Body=body)["ETag"].strip('"')
    task = {"bucket": BUCKET, "key": "incoming/big.csv", "etag": etag, "version": "", "run": "r1"}
    recorder = Recorder(s3)
    planned = app.handler({"task": "plan", **task}, None)
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=planned["manifest"])["Body"].read())
    assert len(manifest) > 1
    for item in manifest:
        app.handler({"task": "score-range", **task, "range": item}, None)
    assert app.handler({"task": "merge", **task}, None)["status"] == "scored"
    failed = {**task, "key": "incoming/other.csv", "run": "r2"}
    error = {"Error": "States.TaskFailed", "Cause": "test"}
    assert app.handler({"task": "fail", **failed, "error": error}, None)["status"] == "failed"
    missing = [c for c in recorder.calls if c["status"] == 404]
    assert {c["Key"].split("/")[0] for c in missing} >= {"summaries", "scored"}, missing
    assert judge(_policy("ChunkFunction"), recorder.calls) == []


def test_the_judge_sees_the_403_under_a_listing_limited_by_prefix():
    """The earlier policies: s3:ListBucket only with an s3:prefix condition."""
    conditional = [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{BUCKET}",
            "Condition": {"StringLike": {"s3:prefix": ["summaries/*"]}},
        },
    ]
    read = {"op": "GetObject", "Bucket": BUCKET, "Key": "summaries/a.csv.json", "status": 404}
    listing = {"op": "ListObjectsV2", "Bucket": BUCKET, "Prefix": "summaries/x", "status": 200}
    assert judge(conditional, [listing]) == []  # a list request carries s3:prefix
    assert judge(conditional, [read]) == [
        "GetObject summaries/a.csv.json (missing) would be 403, not 404"
    ]
