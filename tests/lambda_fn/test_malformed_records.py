"""SQS and S3 records with fields removed or retyped: whatever
arrives ends as a route, a named rejection (UnsupportedEvent, RejectedMessage)
or a named file failure, never a KeyError, TypeError or AttributeError.

Each example runs the real routing (events.kind_of), the real SQS delivery
(delivery.handle_sqs_event with Powertools' BatchProcessor) and the real S3
path (batch.handle_event) against S3 in moto, where incoming/a.csv exists, so
that a well-formed record reaches the object and the fields read after it.
"""

from __future__ import annotations

import copy
import json
import os
import sys

import boto3
import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError, ParamValidationError
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from lambda_fn import batch, delivery, events
from tests.lambda_fn.test_batch import features_csv

EXAMPLES = int(os.environ.get("MALFORMED_RECORD_EXAMPLES", "2000"))
BUCKET = "scoring"
KEY = "incoming/a.csv"
S3_RECORD = {
    "eventVersion": "2.1",
    "eventSource": "aws:s3",
    "awsRegion": "us-east-1",
    "eventTime": "2026-11-23T00:00:00.000Z",
    "eventName": "ObjectCreated:Put",
    "s3": {
        "s3SchemaVersion": "1.0",
        "configurationId": "incoming-csv",
        "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
        # Another version's ETag: the path HEADs the object, compares, skips.
        "object": {"key": KEY, "size": 1024, "eTag": "0" * 32, "sequencer": "0A"},
    },
}
SQS_RECORD = {
    "messageId": "m",
    "receiptHandle": "r",
    "body": {"Records": [S3_RECORD]},  # sent as its JSON text
    "attributes": {"ApproximateReceiveCount": "1"},
    "messageAttributes": {},
    "md5OfBody": "",
    "eventSource": "aws:sqs",
    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:files",
    "awsRegion": "us-east-1",
}
FORBIDDEN = (KeyError, TypeError, AttributeError)
# What a malformed record may end in: a rejection by name, or, for a record
# well-formed enough to reach S3, what S3 answers (a bucket that does not
# exist, a name botocore refuses) as one file's failure.
NAMED = (
    events.UnsupportedEvent,
    delivery.RejectedMessage,
    batch.BatchFailed,
    BatchProcessingError,
    ClientError,
    ParamValidationError,
)

retyped = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.sampled_from(["", KEY, "incoming/", "incoming/b.csv", "incoming/a.csv.gz", "aws:s3"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def _paths(value, prefix=()):
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _paths(inner, (*prefix, index))


@st.composite
def mutated(draw, template: dict) -> dict:
    """`template` with 0 to 3 fields, anywhere in it, removed or given another JSON type."""
    value = copy.deepcopy(template)
    for _ in range(draw(st.integers(0, 3))):
        paths = list(_paths(value))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = value
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(retyped)
    return value


def _sqs_record(record: dict) -> dict:
    if isinstance(record, dict) and isinstance(record.get("body"), dict):
        record["body"] = json.dumps(record["body"])
    return record


s3_events = st.lists(mutated(S3_RECORD), min_size=1, max_size=3).map(lambda r: {"Records": r})
sqs_events = st.lists(mutated(SQS_RECORD).map(_sqs_record), min_size=1, max_size=3).map(
    lambda r: {"Records": r}
)


class _Log:
    """The log the handler passes down; keeps the exceptions it is told about."""

    def __init__(self, seen: list):
        self.seen = seen

    def exception(self, *_a, **_kw):
        self.seen.append(sys.exc_info()[1])

    def warning(self, *_a, **_kw):
        if sys.exc_info()[1] is not None:
            self.seen.append(sys.exc_info()[1])

    def info(self, *_a, **_kw):
        pass


@pytest.fixture
def s3(app):
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.put_object(Bucket=BUCKET, Key=KEY, Body=features_csv(5).encode())
        yield client


@pytest.fixture
def failures(monkeypatch):
    """Every exception Powertools' BatchProcessor records for a failed message."""
    seen: list = []
    original = BatchProcessor.failure_handler

    def failure_handler(self, record, exception):
        seen.append(exception[1])
        return original(self, record, exception)

    monkeypatch.setattr(BatchProcessor, "failure_handler", failure_handler)
    return seen


def _route(event: dict, app, s3, seen: list) -> None:
    """What app.handler does with a Records event, with the log in hand."""
    log = _Log(seen)

    def score(notification):
        return batch.handle_event(notification, app.MODEL, app.CONFIG, s3, log=log)

    try:
        kind = events.kind_of(event)
        if kind == events.SQS:
            delivery.handle_sqs_event(event, None, score, log=log)
        else:
            assert kind == events.S3, kind
            score(event)
    except Exception as exc:  # noqa: BLE001 - judged below
        seen.append(exc)


def _all(exceptions):
    """The exceptions, their causes and (unless suppressed, `raise ... from None`)
    contexts, and a batch error's children."""
    stack, found = list(exceptions), []
    while stack:
        exc = stack.pop()
        if exc is None or any(exc is f for f in found):
            continue
        found.append(exc)
        stack.append(exc.__cause__)
        if not exc.__suppress_context__:
            stack.append(exc.__context__)
        if isinstance(exc, BatchProcessingError):
            stack += [child[1] for child in exc.child_exceptions]
    return found


def _check(seen: list) -> None:
    for exc in _all(seen):
        assert not isinstance(exc, FORBIDDEN), repr(exc)
        assert isinstance(exc, NAMED), repr(exc)


@settings(max_examples=EXAMPLES)
@given(event=sqs_events)
def test_sqs_records_with_fields_removed_or_retyped_end_in_named_errors(app, s3, failures, event):
    failures.clear()
    seen: list = []
    _route(event, app, s3, seen)
    _check(seen + failures)


@settings(max_examples=EXAMPLES)
@given(event=s3_events)
def test_s3_records_with_fields_removed_or_retyped_end_in_named_errors(app, s3, event):
    seen: list = []
    _route(event, app, s3, seen)
    _check(seen)


def test_the_check_would_see_a_key_error_raised_deep_in_a_route(app, s3, failures):
    """The property above can fail: a KeyError inside the S3 path is found."""
    seen: list = []

    def broken(notification):
        return notification["Records"][0]["s3"]["object"]["no-such-field"]

    event = {"Records": [_sqs_record(copy.deepcopy(SQS_RECORD))]}
    try:
        delivery.handle_sqs_event(event, None, broken, log=_Log(seen))
    except BatchProcessingError as exc:
        seen.append(exc)
    with pytest.raises(AssertionError, match="KeyError"):
        _check(seen + failures)
