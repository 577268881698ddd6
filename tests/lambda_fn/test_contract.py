"""The function against its own contract, through API Gateway REST API (payload
1.0) events, with no HTTP server: Schemathesis generates requests from the
document, a WSGI shim turns each into the event API Gateway would send, and
every Schemathesis check judges the handler's answer. (tests/test_serve.py runs
the same checks over HTTP against `make serve`, which sends HTTP API 2.0 events.)"""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl

import pytest
import schemathesis
from hypothesis import given, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.generation.modes import GenerationMode

from contract.openapi import for_local
from tests.lambda_fn.conftest import call, rest_event

BASE_URL = "http://function.local"


def gateway(app):
    """A WSGI app that hands each request to the Lambda handler as API Gateway
    REST API sends it, and answers what the handler returns."""

    def wsgi(environ, start_response):
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size else b""
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        event = rest_event(environ["REQUEST_METHOD"], environ["PATH_INFO"], None, headers)
        if body:
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:  # what API Gateway sends for a binary body
                event["body"] = base64.b64encode(body).decode("ascii")
                event["isBase64Encoded"] = True
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        event["queryStringParameters"] = query or None
        answer = app.handler(event, None)
        out = [(k, v[0]) for k, v in answer["multiValueHeaders"].items()]
        start_response(f"{answer['statusCode']} -", out)
        return [answer["body"].encode("utf-8")]

    return wsgi


@pytest.fixture(scope="module")
def api_schema(app):
    status, doc = call(app, rest_event("GET", "/openapi.json"))
    assert status == 200
    # API Gateway, not the function, checks SigV4 and answers 403 without
    # calling it; the function is tested against the document without that
    # gateway layer (as make serve serves it). No check is excluded.
    schema = schemathesis.openapi.from_dict(for_local(doc, BASE_URL))
    schema.app = gateway(app)
    return schema


load_all_checks()
ALL_CHECKS = CHECKS.get_all()  # every check Schemathesis has; none is excluded
POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
# (method, path, mode, examples): the GET routes take no input, so there is
# nothing to break (no negative mode) and a few examples say all.
RUNS = [
    ("POST", "/predict", POSITIVE, 300),
    ("POST", "/predict", NEGATIVE, 300),
    ("GET", "/schema", POSITIVE, 20),
    ("GET", "/health", POSITIVE, 20),
    ("GET", "/openapi.json", POSITIVE, 20),
]


@pytest.mark.parametrize(("method", "path", "mode", "examples"), RUNS)
def test_the_handler_keeps_its_contract(api_schema, method, path, mode, examples):
    """Every check Schemathesis has, on
    generated requests that fit the document and on ones that break it."""
    operation = api_schema[path][method]
    seen = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples)
    def check(case):
        case.call_and_validate(checks=ALL_CHECKS)
        seen.append(case)

    check()
    assert len(seen) >= (examples if method == "POST" else 1)
