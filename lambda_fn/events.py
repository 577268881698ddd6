"""What kind of event arrived, decided before any route reads it.

Lambda delivers whatever its caller sends: a console test, a wrong trigger, a
hand-written payload. Each kind this function serves is checked for the fields
its route reads, so that anything else ends as one named error that says
what arrived, never as a KeyError deep in a route.
"""

from __future__ import annotations

import json
from typing import Any

API_V1 = "api-v1"  # API Gateway REST API (proxy integration)
API_V2 = "api-v2"  # HTTP API payload 2.0, and Lambda Function URLs
S3 = "s3"  # S3 ObjectCreated notification, invoked directly
S3_TEST = "s3-test"  # what S3 sends once when a notification is configured
SQS = "sqs"  # messages from the file queue (each carries an S3 notification)
TASK = "task"  # a task of the scoring state machine (large files): {"task": ..., ...}

TASKS = ("plan", "score-range", "merge", "fail")

# Longest piece of an event quoted in an error (events can be megabytes).
QUOTE_CHARS = 200


class UnsupportedEvent(ValueError):
    """The event is not one this function serves; the message says what it was."""


def kind_of(event: Any) -> str:
    """One of API_V1, API_V2, S3, S3_TEST, SQS, TASK; raises UnsupportedEvent otherwise."""
    if not isinstance(event, dict):
        raise UnsupportedEvent(
            f"expected an API Gateway, S3 or SQS event object, got a JSON {json_type(event)}"
            + (f": {quote(event)}" if event is not None else "")
        )
    if event.get("Event") == "s3:TestEvent":
        return S3_TEST
    if "Records" in event:
        return _records_kind(event["Records"])
    if "task" in event:
        check_task(event)
        return TASK
    if "requestContext" in event or "httpMethod" in event or "routeKey" in event:
        return _api_kind(event)
    raise UnsupportedEvent(
        "not an API Gateway, S3 or SQS event"
        + (f" (source: {quote(event['source'])})" if "source" in event else "")
        + f"; top-level keys: {quote(sorted(map(str, event)))}"
    )


def _records_kind(records: Any) -> str:
    if not isinstance(records, list) or not records:
        raise UnsupportedEvent("'Records' must be a non-empty list of S3 or SQS records")
    # Any JSON value may stand where a source should: only strings count.
    sources = {_string(r.get("eventSource")) if isinstance(r, dict) else None for r in records}
    if sources == {"aws:s3"}:
        check_s3_notification({"Records": records})
        return S3
    if sources == {"aws:sqs"}:
        for index, record in enumerate(records):
            check_sqs_record(record, f"Records[{index}]")
        return SQS
    named = sorted(str(s) for s in sources if s is not None)
    raise UnsupportedEvent(
        "'Records' must all come from S3 or all from SQS; "
        + (f"eventSource: {quote(named)}" if named else "they carry no eventSource as text")
    )


def check_sqs_record(record: dict, where: str) -> None:
    """Raises UnsupportedEvent when a queue record lacks what the batch
    processor itself reads: messageId, the name of the message to retry.
    The rest (body, eventSourceARN) is checked message by message in
    delivery.py, so that one bad message is rejected alone."""
    message_id = record.get("messageId")
    if not isinstance(message_id, str) or not message_id:
        raise UnsupportedEvent(f"{where}.messageId is {_missing_or(message_id)}, not a string")


def check_s3_notification(notification: dict) -> None:
    """Raises UnsupportedEvent naming the first record the S3 path could not
    read: every field batch/job.py reads (bucket name, key, eTag) is checked
    for presence and type here."""
    records = notification.get("Records")
    if not isinstance(records, list) or not records:
        raise UnsupportedEvent(
            f"no 'Records' list of S3 events (keys: {quote(sorted(map(str, notification)))})"
        )
    for index, record in enumerate(records):
        where = f"Records[{index}]"
        if not isinstance(record, dict) or record.get("eventSource") != "aws:s3":
            source = record.get("eventSource") if isinstance(record, dict) else None
            raise UnsupportedEvent(f"{where} is not an S3 event (eventSource: {quote(source)})")
        name = record.get("eventName")
        if not isinstance(name, str) or not name.startswith("ObjectCreated:"):
            raise UnsupportedEvent(f"{where}.eventName is {quote(name)}, not ObjectCreated:*")
        s3 = record.get("s3")
        if not isinstance(s3, dict):
            raise UnsupportedEvent(f"{where}.s3 is {_missing_or(s3)}, not an object")
        bucket, obj = s3.get("bucket"), s3.get("object")
        if not isinstance(bucket, dict):
            raise UnsupportedEvent(f"{where}.s3.bucket is {_missing_or(bucket)}, not an object")
        if not isinstance(bucket.get("name"), str) or not bucket["name"]:
            raise UnsupportedEvent(f"{where}.s3.bucket.name is missing (or not a string)")
        if not isinstance(obj, dict):
            raise UnsupportedEvent(f"{where}.s3.object is {_missing_or(obj)}, not an object")
        if not isinstance(obj.get("key"), str) or not obj["key"]:
            raise UnsupportedEvent(f"{where}.s3.object.key is missing (or not a string)")
        if obj.get("eTag") is not None and not isinstance(obj["eTag"], str):
            raise UnsupportedEvent(
                f"{where}.s3.object.eTag is a JSON {json_type(obj['eTag'])}, not a string"
            )


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _missing_or(value: Any) -> str:
    return "missing or null" if value is None else f"a JSON {json_type(value)}"


def check_task(event: dict) -> None:
    """Raises UnsupportedEvent naming the first field a state machine task lacks."""
    task = event.get("task")
    if task not in TASKS:
        raise UnsupportedEvent(f"'task' is {quote(task)}, not one of {', '.join(TASKS)}")
    for field in ("bucket", "key", "run"):
        if not isinstance(event.get(field), str) or not event[field]:
            raise UnsupportedEvent(f"a {task} task needs '{field}' (a non-empty string)")
    if task == "plan" and not isinstance(event.get("etag"), str):
        raise UnsupportedEvent("a plan task needs 'etag' (a string)")
    if task == "score-range":
        item = event.get("range")
        fields = ("index", "start", "end", "line")
        if not isinstance(item, dict) or not all(
            isinstance(item.get(f), int) and not isinstance(item.get(f), bool) and item[f] >= 0
            for f in fields
        ):
            raise UnsupportedEvent(
                "a score-range task needs 'range' with non-negative integers " + ", ".join(fields)
            )
        if item["end"] < item["start"]:
            raise UnsupportedEvent("a score-range task's range ends before it starts")
    if task == "fail" and not isinstance(event.get("error", {}), dict):
        raise UnsupportedEvent("a fail task's 'error' must be an object (Error, Cause)")


def _api_kind(event: dict) -> str:
    context = event.get("requestContext")
    if not isinstance(context, dict):
        raise UnsupportedEvent("an API Gateway event needs a 'requestContext' object")
    if event.get("version") == "2.0":
        http = context.get("http")
        if not (isinstance(http, dict) and isinstance(http.get("method"), str)):
            raise UnsupportedEvent("an HTTP API (2.0) event needs requestContext.http.method")
        if not isinstance(event.get("rawPath"), str):
            raise UnsupportedEvent("an HTTP API (2.0) event needs 'rawPath'")
        _check_headers(event)
        return API_V2
    if not isinstance(event.get("httpMethod"), str):
        raise UnsupportedEvent(
            "a REST API event needs 'httpMethod' (or version '2.0' for an HTTP API event)"
        )
    if not isinstance(event.get("path"), str):
        raise UnsupportedEvent("a REST API event needs 'path'")
    _check_headers(event)
    return API_V1


def _check_headers(event: dict) -> None:
    for field in ("headers", "queryStringParameters", "pathParameters"):
        value = event.get(field)
        if value is not None and not isinstance(value, dict):
            raise UnsupportedEvent(f"'{field}' must be an object or null")
    body = event.get("body")
    if body is not None and not isinstance(body, str):
        raise UnsupportedEvent("'body' must be a string or null")


def describe(event: Any) -> dict:
    """A short, bounded picture of an event for the log."""
    if isinstance(event, dict):
        return {"type": "object", "keys": quote(sorted(map(str, event)))}
    return {"type": json_type(event), "value": quote(event)}


def quote(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS] + "..."


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
