"""S3 notifications through SQS to the handler, with S3 and SQS in moto.

The bucket notifies a real (moto) queue with a dead-letter queue; `poll` plays
Lambda's SQS event source: it receives messages, invokes the handler, deletes
the messages that succeeded and leaves the reported failures to the queue.
"""

import io
import json
from urllib.parse import unquote_plus

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from moto import mock_aws

from lambda_fn import delivery
from lambda_fn.events import UnsupportedEvent
from lambda_fn.telemetry import Metrics
from tests.conftest import make_frame

BUCKET = "scoring"
MAX_RECEIVES = 3


@pytest.fixture
def aws(app):
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        dlq_url = sqs.create_queue(QueueName="files-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        url = sqs.create_queue(
            QueueName="files",
            Attributes={
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}
                )
            },
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        s3.put_bucket_notification_configuration(
            Bucket=BUCKET,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "QueueArn": arn,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {
                            "Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}
                        },
                    }
                ]
            },
        )
        app._s3_client = s3
        yield {"s3": s3, "sqs": sqs, "url": url, "arn": arn, "dlq_url": dlq_url}
        app._s3_client = None


def receive(aws, url=None, max_messages=10):
    return (
        aws["sqs"]
        .receive_message(
            QueueUrl=url or aws["url"],
            MaxNumberOfMessages=max_messages,
            AttributeNames=["All"],
        )
        .get("Messages", [])
    )


def lambda_event(aws, messages):
    """The event Lambda's SQS event source builds from received messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": aws["arn"],
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def poll(app, aws):
    """One poll of the event source: invoke, delete successes, release failures.

    Returns (messages, response), or (messages, the exception) when the whole
    invocation failed (then every message goes back to the queue).
    """
    messages = receive(aws)
    if not messages:
        return [], None
    try:
        response = app.handler(lambda_event(aws, messages), None)
    except BatchProcessingError as exc:
        failed = {m["MessageId"] for m in messages}
        response = exc
    else:
        failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    for m in messages:
        if m["MessageId"] in failed:
            aws["sqs"].change_message_visibility(
                QueueUrl=aws["url"], ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
            )
        else:
            aws["sqs"].delete_message(QueueUrl=aws["url"], ReceiptHandle=m["ReceiptHandle"])
    return messages, response


def drain_test_event(app, aws):
    """S3 may announce a new notification configuration with s3:TestEvent."""
    messages, response = poll(app, aws)
    assert all("s3:TestEvent" in m["Body"] for m in messages)
    assert response is None or response == {"batchItemFailures": []}


def features_csv(n, seed=0):
    return make_frame(n=n, seed=seed).drop(columns=["y"]).to_csv(index=False).encode()


def key_of(message):
    """The object key, decoded as S3 notifications encode it."""
    return unquote_plus(json.loads(message["Body"])["Records"][0]["s3"]["object"]["key"])


def summary(aws, name):
    body = aws["s3"].get_object(Bucket=BUCKET, Key=f"summaries/{name}.json")["Body"].read()
    return json.loads(body)


def test_queued_files_are_scored_and_their_messages_deleted(app, aws):
    drain_test_event(app, aws)
    for day in (1, 2):
        aws["s3"].put_object(Bucket=BUCKET, Key=f"incoming/day{day}.csv", Body=features_csv(40))
    messages, response = poll(app, aws)
    assert sorted(key_of(m) for m in messages) == ["incoming/day1.csv", "incoming/day2.csv"]
    assert response == {"batchItemFailures": []}
    for day in (1, 2):
        done = summary(aws, f"day{day}.csv")
        assert done["status"] == "scored" and done["rows_scored"] == 40
    assert receive(aws) == []


def test_a_failing_file_fails_its_message_alone_then_is_parked_not_dropped(app, aws):
    drain_test_event(app, aws)
    aws["s3"].put_object(Bucket=BUCKET, Key="incoming/good.csv", Body=features_csv(30))
    aws["s3"].put_object(Bucket=BUCKET, Key="incoming/gone.csv", Body=features_csv(30))
    # The object disappears before it is scored: reading it fails on every delivery.
    aws["s3"].delete_object(Bucket=BUCKET, Key="incoming/gone.csv")

    messages, response = poll(app, aws)
    by_key = {key_of(m): m["MessageId"] for m in messages}
    assert response == {"batchItemFailures": [{"itemIdentifier": by_key["incoming/gone.csv"]}]}
    assert summary(aws, "good.csv")["rows_scored"] == 30

    # Retried by the queue (alone now: the whole invocation fails) until it is parked.
    for _ in range(MAX_RECEIVES - 1):
        messages, response = poll(app, aws)
        assert [key_of(m) for m in messages] == ["incoming/gone.csv"]
        assert isinstance(response, BatchProcessingError)
    assert receive(aws) == []
    (parked,) = receive(aws, aws["dlq_url"])
    assert parked["MessageId"] == by_key["incoming/gone.csv"]
    assert key_of(parked) == "incoming/gone.csv"


def test_a_foreign_message_is_rejected_alone_with_a_logged_reason(app, aws, caplog):
    drain_test_event(app, aws)
    aws["sqs"].send_message(QueueUrl=aws["url"], MessageBody='{"order": 17}')
    aws["s3"].put_object(Bucket=BUCKET, Key="incoming/day3.csv", Body=features_csv(20))
    messages, response = poll(app, aws)
    foreign = [m["MessageId"] for m in messages if m["Body"] == '{"order": 17}']
    assert response == {"batchItemFailures": [{"itemIdentifier": foreign[0]}]}
    assert summary(aws, "day3.csv")["status"] == "scored"
    (rejection,) = [r for r in caplog.records if r.getMessage() == "SQS message rejected"]
    assert rejection.message_id == foreign[0]
    assert "'Records'" in rejection.reason and "order" in rejection.reason


def test_the_s3_test_event_is_acknowledged(app, aws):
    event = {
        "Records": [
            {
                "messageId": "m-test",
                "receiptHandle": "r",
                "body": json.dumps(
                    {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET}
                ),
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": aws["arn"],
                "awsRegion": "us-east-1",
            }
        ]
    }
    assert app.handler(event, None) == {"batchItemFailures": []}


def test_a_record_without_a_queue_arn_is_rejected_for_its_body_not_a_key_error(app):
    # This used to end in KeyError: 'eventSourceARN' inside BatchProcessingError.
    event = {"Records": [{"eventSource": "aws:sqs", "messageId": "1", "body": "x"}]}
    with pytest.raises(BatchProcessingError) as raised:
        app.handler(event, None)
    (failure,) = raised.value.child_exceptions
    assert failure[0] is delivery.RejectedMessage and "not JSON" in str(failure[1])


def test_a_record_without_a_body_is_rejected_as_having_none(app, caplog):
    # This used to end in KeyError: 'body'; now that message alone fails, by name.
    ok = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET}
    event = {
        "Records": [
            {"eventSource": "aws:sqs", "messageId": "no-body", "eventSourceARN": "arn:q"},
            {"eventSource": "aws:sqs", "messageId": "test", "body": json.dumps(ok)},
        ]
    }
    assert app.handler(event, None) == {"batchItemFailures": [{"itemIdentifier": "no-body"}]}
    (rejection,) = [r for r in caplog.records if r.getMessage() == "SQS message rejected"]
    assert rejection.reason == "the message has no body" and rejection.queue == "arn:q"


@pytest.mark.parametrize("message_id", [None, 7, "", ["m"]])
def test_a_record_whose_message_id_is_missing_or_not_text_rejects_the_event(app, message_id):
    record = {"eventSource": "aws:sqs", "body": "{}", "messageId": message_id}
    if message_id is None:
        del record["messageId"]
    with pytest.raises(UnsupportedEvent, match=r"Records\[0\]\.messageId is"):
        app.handler({"Records": [record]}, None)


def test_the_sample_sqs_event_is_an_s3_notification():
    from tests.conftest import ROOT

    event = json.loads((ROOT / "infra" / "events" / "sqs-s3-put.json").read_text())
    (record,) = event["Records"]
    assert record["eventSource"] == "aws:sqs"
    notification = delivery.read_notification(record["body"])
    assert notification["Records"][0]["s3"]["object"]["key"].startswith("incoming/")


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (None, "no body"),
        ("not json", "not JSON"),
        ("[1, 2]", "JSON array"),
        ('"text"', "JSON string"),
        (7, "body is a JSON number, not text"),
        ("{}", "'Records'"),
        ('{"Records": []}', "'Records'"),
        ('{"Records": [7]}', "Records[0] is not an S3 event"),
        ('{"Records": [{"eventSource": "aws:sns"}]}', "aws:sns"),
        ('{"Records": [{"eventSource": "aws:s3"}]}', "Records[0].eventName"),
        (
            '{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete"}]}',
            "ObjectRemoved:Delete",
        ),
        (
            '{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]}',
            "Records[0].s3 is missing",
        ),
        (
            '{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",'
            ' "s3": {"bucket": {"name": ["b"]}, "object": {"key": "k"}}}]}',
            "s3.bucket.name",
        ),
        (
            '{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",'
            ' "s3": {"bucket": {"name": "b"}, "object": {"key": "k", "eTag": 5}}}]}',
            "s3.object.eTag is a JSON number",
        ),
        (
            '{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",'
            ' "s3": {"bucket": {"name": "b"}, "object": {}}}]}',
            "s3.object.key",
        ),
        ("x" * 100_000, "not JSON"),
    ],
)
def test_a_body_that_is_not_an_s3_notification_is_rejected_by_name(body, named):
    with pytest.raises(delivery.RejectedMessage, match=named.replace("[", r"\[")) as caught:
        delivery.read_notification(body)
    assert len(str(caught.value)) < 400


def test_metrics_are_also_written_per_service_for_the_drift_alarms():
    out = io.StringIO()
    metrics = Metrics(namespace="Test", service="svc", out=out)
    metrics.dimensions["model_version"] = "abc"
    metrics.add("PositiveRate", 0.25)
    metrics.flush()
    line = json.loads(out.getvalue())
    (definition,) = line["_aws"]["CloudWatchMetrics"]
    assert definition["Dimensions"] == [["service", "model_version"], ["service"]]
    assert line["service"] == "svc" and line["PositiveRate"] == 0.25
