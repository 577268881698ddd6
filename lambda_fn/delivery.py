"""S3 notifications delivered through SQS: one queue message, one outcome.

The bucket sends its ObjectCreated notifications to a queue, and the queue
invokes the batch function with up to QueueBatchSize messages. Each message is
handled on its own by Powertools' BatchProcessor, and the answer is a partial
batch response: only the messages that failed go back to the queue (to be
retried, then parked in the dead-letter queue), never the whole batch.

- A message carrying an S3 notification is scored (`score`, which raises when
  a file fails: that message fails alone).
- `s3:TestEvent` (what S3 sends when notifications are configured) is
  acknowledged.
- Anything else is rejected for that message alone, with a logged reason; it
  ends in the dead-letter queue, where someone can look at it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from lambda_fn.events import UnsupportedEvent, check_s3_notification, json_type, quote


class RejectedMessage(ValueError):
    """An SQS message that is not an S3 notification this function can score."""


def read_notification(body: Any) -> dict | None:
    """The S3 notification in a message body; None for S3's test event.

    Raises RejectedMessage naming what is wrong with anything else.
    """
    if body is None:
        raise RejectedMessage("the message has no body")
    if not isinstance(body, str):
        raise RejectedMessage(f"the message body is a JSON {json_type(body)}, not text")
    try:
        notification = json.loads(body)
    except ValueError:
        raise RejectedMessage(f"the body is not JSON: {quote(body)}") from None
    if not isinstance(notification, dict):
        raise RejectedMessage(
            f"the body is a JSON {json_type(notification)}, not an S3 notification object"
        )
    if notification.get("Event") == "s3:TestEvent":
        return None
    try:
        check_s3_notification(notification)
    except UnsupportedEvent as exc:
        raise RejectedMessage(
            f"the body is not an S3 notification this function scores: {exc}"
        ) from None
    return notification


def handle_sqs_event(
    event: dict,
    context: Any,
    score: Callable[[dict], Any],
    log,
) -> dict:
    """Score every message; answer {"batchItemFailures": [...]} for the ones that failed.

    `score(notification)` runs the S3 path for one notification and raises when
    a file fails. When every message fails, BatchProcessor raises instead, so
    that the invocation counts as an error (and a canary deployment that fails
    every file rolls back).
    """
    # One processor per call: it keeps the batch's state, and the handler may
    # run on several threads at once.
    processor = BatchProcessor(event_type=EventType.SQS)

    def handle_record(record: SQSRecord):
        # Read from the raw record, each field checked: SQSRecord's properties
        # index the dict (a KeyError for a field that is missing).
        # events.check_sqs_record has checked messageId.
        raw = record.raw_event
        queue = raw.get("eventSourceARN")
        message = {
            "message_id": raw["messageId"],
            "queue": queue if isinstance(queue, str) else None,
        }
        try:
            notification = read_notification(raw.get("body"))
        except RejectedMessage as exc:
            log.warning("SQS message rejected", extra={**message, "reason": str(exc)})
            raise
        if notification is None:
            log.info("S3 test event acknowledged", extra=message)
            return {"status": "test-event"}
        try:
            return score(notification)
        except Exception:
            log.warning("SQS message failed; the queue will retry it", extra=message)
            raise

    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
