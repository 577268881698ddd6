"""POST /predict, GET /schema, GET /health through the real handler, for
both API Gateway event versions; bad input is always a 4xx naming the problem."""

import json
import math

import numpy as np
import onnxruntime as ort
import pytest

from lambda_fn.config import Config
from tests.lambda_fn.conftest import RECORD, call


def predict(app, make_event, body, **kw):
    return call(app, make_event("POST", "/predict", body, **kw))


def test_predict_returns_probability_and_original_label(app, make_event, model_path):
    status, body = predict(app, make_event, {"records": [RECORD, {**RECORD, "age": 80}]})
    assert status == 200
    assert body["model_version"] == app.MODEL.version and body["threshold"] == app.MODEL.threshold
    assert len(body["predictions"]) == 2
    session = ort.InferenceSession(str(model_path))
    feeds = {
        k: np.array([[v]], dtype=np.float32 if k != "plan" and k != "region" else object)
        for k, v in RECORD.items()
    }
    p, label = session.run(["probability", "label"], feeds)
    first = body["predictions"][0]
    assert first["probability"] == pytest.approx(float(p[0]), abs=1e-6)
    assert first["label"] == ("yes" if label[0] == 1 else "no")


def test_base64_body_is_decoded(app, make_event):
    status, body = predict(app, make_event, {"records": [RECORD]}, base64_body=True)
    assert status == 200 and len(body["predictions"]) == 1


def test_null_is_accepted_where_missing_is_allowed(app, make_event):
    status, _ = predict(app, make_event, {"records": [{**RECORD, "age": None, "plan": None}]})
    assert status == 200


def test_unseen_category_is_scored(app, make_event):
    status, _ = predict(app, make_event, {"records": [{**RECORD, "region": "atlantis"}]})
    assert status == 200


def test_categories_are_read_as_training_reads_them(app, make_event):
    """Surrounding spaces are stripped and missing tokens are the missing category."""
    plain = [RECORD, {**RECORD, "plan": None}]
    padded = [{**RECORD, "plan": " premium "}, {**RECORD, "plan": "NA"}]
    assert predict(app, make_event, {"records": padded}) == predict(
        app, make_event, {"records": plain}
    )


def test_numeric_strings_are_numbers(app, make_event):
    status, _ = predict(app, make_event, {"records": [{**RECORD, "age": "41"}]})
    assert status == 200


def test_schema_lists_features_and_a_valid_example(app, make_event):
    status, body = call(app, make_event("GET", "/schema"))
    assert status == 200
    assert [f["name"] for f in body["features"]] == ["age", "balance", "calls", "plan", "region"]
    assert body["labels"] == {"negative": "no", "positive": "yes"}
    status, _ = predict(app, make_event, {"records": [body["example_record"]]})
    assert status == 200


def test_health_reports_the_model_version(app, make_event):
    assert call(app, make_event("GET", "/health")) == (
        200,
        {"status": "ok", "model_version": app.MODEL.version},
    )


def test_unknown_route_is_404(app, make_event):
    assert call(app, make_event("GET", "/nope"))[0] == 404


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("{not json", 400, "not valid JSON"),
        ("", 400, "empty body"),
        ("[1, 2]", 400, "must be a JSON object"),
        ({"rows": []}, 400, 'missing "records"'),
        ({"records": []}, 400, "is empty"),
        ({"records": {"a": 1}}, 400, "must be an array"),
        ({"records": [RECORD], "extra": 1}, 400, "unknown top-level"),
    ],
)
def test_malformed_bodies_are_400(app, make_event, body, status, message):
    code, answer = predict(app, make_event, body)
    assert code == status and message in answer["message"]


def test_wrong_content_type_is_415(app, make_event):
    code, answer = predict(
        app, make_event, {"records": [RECORD]}, headers={"content-type": "text/plain"}
    )
    assert code == 415 and "application/json" in answer["message"]


@pytest.mark.parametrize(
    ("record", "field", "message"),
    [
        ([1, 2], None, "record must be an object"),
        ({k: v for k, v in RECORD.items() if k != "age"}, "age", "missing field"),
        ({**RECORD, "colour": "red"}, "colour", "unknown field"),
        ({**RECORD, "age": "forty"}, "age", "expected a number, got 'forty'"),
        ({**RECORD, "age": True}, "age", "got a boolean"),
        ({**RECORD, "age": [1]}, "age", "expected a number, got list"),
        ({**RECORD, "plan": 1.5}, "plan", "expected a string, got a number"),
        # Categories are strings only, as the contract says (docs/api.md).
        ({**RECORD, "plan": 0}, "plan", "expected a string, got a number"),
        ({**RECORD, "plan": False}, "plan", "expected a string, got a boolean"),
        # Numbers as text follow the contract's pattern; others go as JSON numbers.
        ({**RECORD, "age": "1e20"}, "age", "'1e20' is not plain decimal text"),
        ({**RECORD, "age": "\u0664\u0661"}, "age", "not plain decimal text"),
        ({**RECORD, "balance": 1e39}, "balance", "out of float32 range"),
    ],
)
def test_each_record_problem_is_named(app, make_event, record, field, message):
    code, answer = predict(app, make_event, {"records": [RECORD, record]})
    assert code == 400
    assert {"record": 1, "field": field, "message": answer["errors"][0]["message"]} in answer[
        "errors"
    ]
    assert message in answer["errors"][0]["message"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_rejected(app, make_event, literal):
    text = json.dumps({"records": [RECORD]}).replace("41.0", literal)
    code, answer = predict(app, make_event, text)
    assert code == 400 and answer["errors"][0]["field"] == "age"
    assert "NaN and infinity" in answer["errors"][0]["message"]


def test_every_problem_is_listed_at_once(app, make_event):
    records = [{**RECORD, "age": "x"}, {"plan": "basic"}, "oops"]
    code, answer = predict(app, make_event, {"records": records})
    assert code == 400
    where = {(e["record"], e["field"]) for e in answer["errors"]}
    assert {(0, "age"), (1, "age"), (1, "balance"), (1, "calls"), (1, "region"), (2, None)} <= where


def test_record_limit_is_400_and_byte_limit_413(app, make_event):
    """Too many records breaks the contract's maxItems (400, as for any invalid
    body); too many bytes is 413, a limit the JSON Schema cannot state."""
    app.use_model(app.MODEL, Config(max_records=3, max_body_bytes=2000))
    try:
        code, answer = predict(app, make_event, {"records": [RECORD] * 4})
        assert code == 400 and "holds 4; the limit is 3" in answer["message"]
        code, answer = predict(app, make_event, {"records": [{**RECORD, "plan": "x" * 3000}]})
        assert code == 413 and "limit is 2000" in answer["message"]
        wide = json.dumps({"records": [{**RECORD, "plan": "é" * 1200}]}, ensure_ascii=False)
        assert len(wide) < 2000 < len(wide.encode())  # the limit counts bytes, not characters
        code, answer = predict(app, make_event, wide)
        assert code == 413 and "limit is 2000" in answer["message"]
    finally:
        app.use_model(app.MODEL, Config())


def test_metrics_and_logs_carry_the_model_version(app, make_event, capsys):
    predict(app, make_event, {"records": [RECORD]})
    out = capsys.readouterr().out
    emf = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    assert emf, out
    doc = emf[-1]
    assert doc["model_version"] == app.MODEL.version
    names = {m["Name"] for m in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {
        "RecordsScored",
        "RecordsRejected",
        "LatencyMs",
        "MeanProbability",
        "PositiveRate",
    } <= names
    mean = doc["MeanProbability"]
    assert not math.isnan(mean[-1] if isinstance(mean, list) else mean)


def test_an_invocations_log_keys_do_not_reach_the_next_one(app, make_event):
    """The request id of an API call, or a task's run, must not label later lines."""
    import io
    import logging

    from lambda_fn.telemetry import logger

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    try:
        predict(app, make_event, {"records": [{}]})  # a 400 is logged with the request id
        logger.thread_safe_append_keys(run="run-1", task="plan")  # as a task invocation does
        assert app.handler({"Event": "s3:TestEvent", "Bucket": "b"}, None) == {
            "status": "test-event"
        }
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    rejected = next(line for line in lines if line["message"] == "request rejected")
    acknowledged = next(line for line in lines if line["message"] == "S3 test event acknowledged")
    assert rejected["correlation_id"].startswith("req-")
    assert not {"correlation_id", "run", "task"} & set(acknowledged)
    assert acknowledged["model_version"] == app.MODEL.version
