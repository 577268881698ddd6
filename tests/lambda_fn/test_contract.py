"""The function against its own contract, through API Gateway REST API (payload
1.0) events, with no HTTP server: Schemathesis' engine (the one `st run` drives:
examples, coverage and fuzzing phases) generates requests from the document, a
WSGI shim turns each into the event API Gateway would send, and every check
Schemathesis has judges the handler's answer. (tests/test_serve.py runs
`st run --checks all` over HTTP against `make serve`, which sends HTTP API 2.0
events.)"""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl

import pytest
import schemathesis
from schemathesis import engine
from schemathesis.engine import events

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
def run(app):
    """(cases per operation, check names run, failures) of one engine run."""
    status, doc = call(app, rest_event("GET", "/openapi.json"))
    assert status == 200
    config = schemathesis.Config.from_dict(
        {
            "checks": {"enabled": True},  # every check; none is excluded
            "generation": {"max-examples": EXAMPLES, "deterministic": True},
            "workers": 1,
        }
    )
    # API Gateway, not the function, checks SigV4 and answers 403 without
    # calling it; the function is tested against the document without that
    # gateway layer, as make serve serves it (for_local).
    schema = schemathesis.openapi.from_dict(for_local(doc, BASE_URL), config=config)
    schema.app = gateway(app)
    cases: dict[str, int] = {}
    checks: set[str] = set()
    failures = []
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.FatalError | events.NonFatalError):
            pytest.fail(f"Schemathesis could not run: {event}")
        if not isinstance(event, events.ScenarioFinished):
            continue
        cases[event.label] = cases.get(event.label, 0) + len(event.recorder.cases)
        for results in event.recorder.checks.values():
            for check in results:
                checks.add(check.name)
                if check.failure_info is not None:
                    failures.append((event.label, check.name, check.failure_info.failure.title))
    return cases, checks, failures


EXAMPLES = 300


def test_the_handler_keeps_its_contract(run):
    cases, checks, failures = run
    assert not failures, failures[:10]
    assert set(cases) == {"POST /predict", "GET /schema", "GET /health", "GET /openapi.json"}
    # The GET routes take no input: there is little to vary.
    assert cases["POST /predict"] >= EXAMPLES, cases


def test_every_applicable_check_ran(run):
    """negative_data_rejection is the check that catches a validator more
    lenient than the document (it found `"poutcome": 0`)."""
    _, checks, _ = run
    assert {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
        "missing_required_header",
        "unsupported_method",
    } <= checks, checks
