"""S3 in moto with the client settings the function uses, and faults to inject into it.

Faults go in through botocore's own event hooks, so that they hit the
client exactly where the network would (botocore's retry mode sees them as
it would in AWS):
- connect=True: the connection fails before the request is sent (nothing
  happens in S3), raised by a `before-send` hook that runs before moto's;
- an error status, or timeout=True: moto has already carried the request
  out when the hook answers with the error or raises a read timeout, as when
  S3 did the work but the answer was lost (the harder case for conditional
  writes, which must then recognise their own earlier attempt);
- break_bodies: `after-call` swaps a GetObject body for one that breaks off
  after some bytes.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError
from moto import mock_aws

from lambda_fn.config import Config

BUCKET = "scoring"


@pytest.fixture
def no_backoff(monkeypatch):
    """botocore's standard retry mode, without its sleeps between attempts."""
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


@pytest.fixture
def s3(app, no_backoff):
    with mock_aws():
        client = boto3.client(
            "s3", region_name="us-east-1", config=Config(s3_max_attempts=3).botocore_config()
        )
        client.create_bucket(Bucket=BUCKET)
        app._s3_client = client
        yield client
        app._s3_client = None


def error_response(status: int, code: str) -> AWSResponse:
    body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
    return AWSResponse("https://s3.amazonaws.com", status, {}, _Raw(body))


class _Raw:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_kw):
        yield self.body


class Faults:
    """Faults for chosen S3 operations of one client, on chosen calls.

    fail(op, times, status/code or timeout=True): the first `times` calls of
    op fail (each attempt botocore makes is a call). break_bodies(after, times):
    the first `times` GetObject bodies raise a read timeout after `after` bytes."""

    def __init__(self, client):
        self.client = client
        self.plans: dict[str, list] = {}
        self.calls: dict[str, int] = {}
        self.bodies_to_break = 0
        self.break_after = 0
        self.broken = 0
        client.meta.events.register_first("before-send.s3", self._before_connect)
        client.meta.events.register("before-send.s3", self._before_send)
        client.meta.events.register("after-call.s3.GetObject", self._after_get)

    def fail(
        self,
        op: str,
        times: int,
        status: int = 503,
        code: str = "SlowDown",
        timeout=False,
        connect=False,
    ):
        self.plans[op] = [times, status, code, "connect" if connect else timeout]

    def clear(self):
        self.plans.clear()
        self.bodies_to_break = 0

    def break_bodies(self, after: int, times: int = 1):
        self.break_after, self.bodies_to_break = after, times

    def _before_connect(self, request, event_name, **_kw):
        op = event_name.rsplit(".", 1)[-1]
        plan = self.plans.get(op)
        if plan and plan[0] and plan[3] == "connect":
            self.calls[op] = self.calls.get(op, 0) + 1
            plan[0] -= 1
            raise ConnectTimeoutError(endpoint_url=request.url)

    def _before_send(self, request, event_name, **_kw):
        op = event_name.rsplit(".", 1)[-1]
        self.calls[op] = self.calls.get(op, 0) + 1
        plan = self.plans.get(op)
        if not plan or plan[0] == 0:
            return None
        plan[0] -= 1
        if plan[3]:
            raise ReadTimeoutError(endpoint_url=request.url)
        return error_response(plan[1], plan[2])

    def _after_get(self, parsed, **_kw):
        if self.bodies_to_break and "Body" in parsed:
            self.bodies_to_break -= 1
            self.broken += 1
            parsed["Body"] = _BreakingBody(parsed["Body"], self.break_after)


class _BreakingBody:
    """A response body that raises the timeout botocore raises, after some bytes."""

    def __init__(self, body, after: int):
        self.body, self.left = body, after

    def read(self, n=-1):
        if self.left <= 0:
            raise ReadTimeoutError(endpoint_url="https://s3.amazonaws.com (injected)")
        n = self.left if n is None or n < 0 else min(n, self.left)
        data = self.body.read(n)
        self.left -= len(data)
        return data


@pytest.fixture
def faults(s3):
    return Faults(s3)
