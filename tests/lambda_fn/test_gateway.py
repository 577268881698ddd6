"""Reading API Gateway events and writing their responses, for REST v1, HTTP
API v2 and Function URL payloads."""

import base64
import json

import pytest

from lambda_fn import gateway
from tests.lambda_fn.conftest import RECORD, call, http_event, rest_event


def read(event):
    return gateway.read_request(event, http_api=event.get("version") == "2.0")


def test_method_path_headers_and_request_id_are_read_from_each_flavour(make_event):
    request = read(make_event("post", "/predict", {"records": []}, headers={"X-Thing": "a"}))
    assert request.method == "POST" and request.path == "/predict"
    assert request.header("x-thing") == "a"
    assert request.request_id.startswith("req-")


def test_trailing_slashes_are_the_same_route(make_event):
    assert read(make_event("GET", "/health//")).path == "/health"
    assert read(make_event("GET", "/")).path == "/"


def test_a_named_stage_prefix_is_stripped_only_where_it_is_there():
    event = http_event("GET", "/prod/health")
    event["requestContext"]["stage"] = "prod"
    assert read(event).path == "/health"
    event = http_event("GET", "/health")  # a custom domain's mapping strips the stage
    event["requestContext"]["stage"] = "prod"
    assert read(event).path == "/health"
    event = http_event("GET", "/production/health")  # not the stage "prod"
    event["requestContext"]["stage"] = "prod"
    assert read(event).path == "/production/health"


def test_base64_bodies_are_decoded_and_bad_ones_named():
    text = json.dumps({"records": [RECORD]})
    assert read(http_event("POST", "/predict", text, base64_body=True)).body() == text
    for raw in ("!!!!", base64.b64encode(b"\xff\xfe").decode(), "ab"):
        event = http_event("POST", "/predict", "x")
        event.update(body=raw, isBase64Encoded=True)
        with pytest.raises(gateway.BodyError, match="not valid base64-encoded UTF-8"):
            read(event).body()


def test_header_values_that_are_not_text_are_ignored():
    event = rest_event("POST", "/predict", {"records": []}, headers={"content-type": None})
    assert read(event).header("content-type") is None


def test_responses_take_the_shape_of_the_payload_version():
    assert gateway.response(True, 200, "{}", {"Content-Type": "application/json"}) == {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": "{}",
        "isBase64Encoded": False,
    }
    assert gateway.response(False, 404, "{}", {"Content-Type": "application/json"}) == {
        "statusCode": 404,
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "body": "{}",
        "isBase64Encoded": False,
    }


def test_a_known_path_with_the_wrong_method_is_405_and_says_which(app, make_event):
    response = app.handler(make_event("GET", "/predict"), None)
    allow = response.get("headers", {}).get("Allow") or response["multiValueHeaders"]["Allow"]
    assert response["statusCode"] == 405 and allow in ("POST", ["POST"])
    assert json.loads(response["body"])["message"] == "/predict takes POST, not GET"
    assert call(app, make_event("DELETE", "/health"))[0] == 405


def test_a_bad_base64_body_is_a_400_not_an_empty_body(app, make_event):
    event = make_event("POST", "/predict", "x")
    event.update(body="!!!!", isBase64Encoded=True)
    assert call(app, event) == (400, {"message": "body is not valid base64-encoded UTF-8"})
