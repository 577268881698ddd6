"""A real exported model for the serving tests, and API Gateway event builders."""

from __future__ import annotations

import base64
import contextlib
import importlib
import json
import os

import pytest
from hypothesis import HealthCheck, settings

# Property-based tests: no example database (nothing written into the repo),
# and in CI a fixed, derandomised run, so a failure reproduces exactly.
# HYPOTHESIS_PROFILE=dev explores new examples on each run instead.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def app(model_path):
    os.environ["MODEL_PATH"] = str(model_path)
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Test")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    import lambda_fn.app as module

    return importlib.reload(module)


@pytest.fixture
def model(app):
    return app.MODEL


RECORD = {"age": 41.0, "balance": 1200.5, "calls": 3, "plan": "premium", "region": "north"}


def rest_event(method, path, body=None, headers=None, base64_body=False):
    """API Gateway REST API (v1 proxy) event."""
    headers = {"Content-Type": "application/json"} if headers is None else headers
    text = body if isinstance(body, str) or body is None else json.dumps(body)
    if base64_body and text is not None:
        text = base64.b64encode(text.encode()).decode()
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": "req-v1",
            "stage": "prod",
            "httpMethod": method,
            "path": path,
            "resourcePath": path,
        },
        "body": text,
        "isBase64Encoded": base64_body,
    }


def http_event(method, path, body=None, headers=None, base64_body=False):
    """API Gateway HTTP API (v2) event."""
    headers = {"content-type": "application/json"} if headers is None else headers
    text = body if isinstance(body, str) or body is None else json.dumps(body)
    if base64_body and text is not None:
        text = base64.b64encode(text.encode()).decode()
    event = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "requestId": "req-v2",
            "http": {"method": method, "path": path, "sourceIp": "127.0.0.1"},
            "stage": "$default",
        },
        "isBase64Encoded": base64_body,
    }
    if text is not None:
        event["body"] = text
    return event


def function_url_event(method, path, body=None, headers=None, base64_body=False):
    """Lambda Function URL event (the HTTP API 2.0 payload, from a lambda-url domain)."""
    event = http_event(method, path, body, headers, base64_body)
    event["routeKey"] = "$default"
    event["requestContext"].update(
        {
            "domainName": "abcdefgh.lambda-url.us-east-1.on.aws",
            "apiId": "abcdefgh",
            "requestId": "req-url",
        }
    )
    return event


EVENTS = {"v1": rest_event, "v2": http_event, "url": function_url_event}


@pytest.fixture(params=["v1", "v2", "url"])
def make_event(request):
    return EVENTS[request.param]


def call(app, event):
    response = app.handler(event, None)
    return response["statusCode"], json.loads(response["body"])


@contextlib.contextmanager
def bucket_for(app, bucket: str):
    """A moto S3 bucket that the function's S3 client writes to, for one test."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=bucket)
        app._s3_client = client
        try:
            yield client
        finally:
            app._s3_client = None
