"""Every event gets a route or a named rejection; never a KeyError from deep inside."""

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_fn import events
from scripts.invoke_rie import UNSUPPORTED_EVENTS
from tests.conftest import ROOT
from tests.lambda_fn.conftest import http_event, rest_event

SAMPLES = ROOT / "infra" / "events"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("api-predict-v1.json", events.API_V1),
        ("api-predict-v2.json", events.API_V2),
        ("api-health.json", events.API_V2),
        ("api-schema.json", events.API_V2),
        ("s3-put.json", events.S3),
        ("sqs-s3-put.json", events.SQS),
    ],
)
def test_each_sample_event_has_its_kind(name, kind):
    assert events.kind_of(json.loads((SAMPLES / name).read_text())) == kind


def test_a_function_url_event_is_served_as_an_http_api_event():
    event = http_event("GET", "/health")
    event["requestContext"]["domainName"] = "abc.lambda-url.us-east-1.on.aws"
    event.pop("routeKey", None)
    assert events.kind_of(event) == events.API_V2


def test_s3_test_event_is_recognised():
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}
    assert events.kind_of(test_event) == events.S3_TEST


@pytest.mark.parametrize("name", sorted(UNSUPPORTED_EVENTS))
def test_events_this_function_does_not_serve_are_rejected_by_name(name):
    with pytest.raises(events.UnsupportedEvent) as raised:
        events.kind_of(UNSUPPORTED_EVENTS[name])
    assert str(raised.value)


def test_the_rejection_says_what_arrived():
    with pytest.raises(events.UnsupportedEvent, match=r"source: aws\.events"):
        events.kind_of({"source": "aws.events", "detail-type": "Scheduled Event"})
    with pytest.raises(events.UnsupportedEvent, match=r"Records\[1\]\.s3\.object\.key"):
        record = json.loads((SAMPLES / "s3-put.json").read_text())["Records"][0]
        broken = json.loads(json.dumps(record))
        del broken["s3"]["object"]["key"]
        events.kind_of({"Records": [record, broken]})


def test_a_huge_event_is_quoted_within_bounds():
    with pytest.raises(events.UnsupportedEvent) as raised:
        events.kind_of({f"key{i}" * 50: i for i in range(10_000)})
    assert len(str(raised.value)) < 500


def test_the_handler_logs_and_raises_the_rejection(app, caplog):
    with pytest.raises(events.UnsupportedEvent):
        app.handler({"awslogs": {"data": "x"}}, None)
    (record,) = [r for r in caplog.records if r.getMessage() == "event rejected"]
    assert record.levelname == "ERROR" and "awslogs" in record.event["keys"]
    assert "awslogs" in record.reason


def test_the_handler_acknowledges_the_s3_test_event(app):
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}
    assert app.handler(test_event, None) == {"status": "test-event"}


def test_api_events_still_reach_their_routes(app):
    assert app.handler(rest_event("GET", "/health"), None)["statusCode"] == 200
    assert app.handler(http_event("GET", "/health"), None)["statusCode"] == 200


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["Records", "eventSource", "s3", "body", "version", "Event", "x"])
            | st.text(max_size=8),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(event=json_values)
def test_any_json_value_is_routed_or_rejected_by_name(event):
    try:
        kind = events.kind_of(event)
    except events.UnsupportedEvent as rejected:
        assert str(rejected)
    else:
        assert kind in {
            events.API_V1,
            events.API_V2,
            events.S3,
            events.S3_TEST,
            events.SQS,
            events.TASK,
        }


# What the API path must not import: each costs cold start (X-Ray's SDK pulls in
# botocore, about 165 ms; Powertools' event_handler package about 60 ms).
# botocore's own tiny __init__ is fine (Powertools imports it for its user agent).
NOT_ON_THE_API_PATH = ("aws_xray_sdk", "boto3", "botocore.", "aws_lambda_powertools.event_handler")


def test_the_api_path_imports_no_x_ray_boto3_or_routing_framework_even_with_tracing_on(
    model_path,
):
    code = (
        "import json, sys\n"
        "from lambda_fn import app\n"
        "from tests.lambda_fn.conftest import http_event\n"
        "assert app.handler(http_event('GET', '/health'), None)['statusCode'] == 200\n"
        "assert app.handler(http_event('POST', '/predict', {'records': [app.MODEL.schema"
        ".example_record()]}), None)['statusCode'] == 200\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({NOT_ON_THE_API_PATH}))))\n"
    )
    env = {
        "MODEL_PATH": str(model_path),
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PATH": "/usr/bin:/bin",
    }
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == []
