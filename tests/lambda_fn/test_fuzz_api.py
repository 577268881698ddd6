"""10,000 generated requests per run against POST /predict, through REST
(v1), HTTP API (v2) and Function URL events: whatever arrives, the answer is
never a 5xx, a 4xx is JSON that names the field, every body stays under
64 KB, and valid records get exactly what onnxruntime gives them directly."""

from __future__ import annotations

import base64
import json
import os

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract.schema import NUMERIC
from lambda_fn.api import MAX_RESPONSE_BYTES
from tests.lambda_fn.conftest import EVENTS, RECORD

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10000"))
SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
unicode_text = st.lists(
    st.one_of(st.characters(), SURROGATES, st.sampled_from(' ,"\\\r\n\t\x00=+-@')), max_size=20
).map("".join)
huge_ints = st.integers(min_value=-(10**600), max_value=10**600)
numbers = st.one_of(
    st.integers(),
    huge_ints,
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 3.5e38, 5e-324, -0.0, 1e-45, 2**63, -(2**64)]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, unicode_text)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(unicode_text, inner, max_size=4),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def reference(model_path):
    """A plain onnxruntime session on the same file: what a valid record must get."""
    return ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])


def valid_records(schema):
    fields = {}
    for f in schema.features:
        if f.kind == NUMERIC:
            fields[f.name] = st.one_of(
                st.none(),
                st.integers(-(10**6), 10**6),
                st.floats(-(2.0**100), 2.0**100, allow_nan=False, width=32),
            )
        else:
            seen = [c for c in f.categories if c]
            fields[f.name] = st.one_of(st.none(), st.sampled_from([*seen, "never-seen"]))
    return st.fixed_dictionaries(fields)


def mutated_records(schema):
    """A valid record with fields replaced, dropped or added, by anything."""
    names = [f.name for f in schema.features]
    return st.tuples(
        valid_records(schema),
        st.dictionaries(st.sampled_from(names), json_values, max_size=3),
        st.lists(st.sampled_from(names), max_size=2),
        st.dictionaries(unicode_text, json_values, max_size=2),
    ).map(
        lambda t: {
            **{k: v for k, v in t[0].items() if k not in t[2]},
            **t[1],
            **t[3],
        }
    )


def raw_bodies():
    """Text that is not what json.dumps writes: deep nesting, huge literals, junk."""
    big = st.integers(300, 3000)
    return st.one_of(
        big.map(lambda n: "[" * n + "]" * n),
        big.map(lambda n: '{"records": [' * (n // 13) + "]}" * (n // 13)),
        big.map(lambda n: '{"records": [{"age": ' + "9" * n + "}]}"),
        big.map(lambda n: '{"records": [{"age": 1' + "0" * n + ".5e9}]}"),
        big.map(lambda n: '{"records": [{"plan": "' + "\\ud800" * (n // 6) + '"}]}'),
        st.text(max_size=60),
        st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
    )


def oversized_bodies():
    """Many or long field names, unknown at the top level or in records."""
    return st.tuples(st.integers(1, 150), st.integers(1, 200), st.booleans()).map(
        lambda t: json.dumps(
            {"records": [{**RECORD, **{f"{'k' * t[1]}{i}": 1 for i in range(t[0])}}]}
            if t[2]
            else {"records": [RECORD], **{f"{'u' * t[1]}{i}": 1 for i in range(t[0])}}
        )
    )


def requests(schema):
    valid = st.lists(valid_records(schema), min_size=1, max_size=5).map(
        lambda r: ("valid", {"records": r})
    )
    mixed = st.lists(
        st.one_of(valid_records(schema), mutated_records(schema), json_values), max_size=5
    ).map(lambda r: ("other", {"records": r}))
    bodies = st.one_of(
        valid.map(lambda v: (v[0], json.dumps(v[1]), v[1])),
        mixed.map(lambda v: (v[0], json.dumps(v[1]), None)),
        mixed.map(lambda v: (v[0], json.dumps(v[1], ensure_ascii=False), None)),
        json_values.map(lambda v: ("other", json.dumps(v), None)),
        raw_bodies().map(lambda b: ("other", b, None)),
        oversized_bodies().map(lambda b: ("other", b, None)),
    )
    headers = st.one_of(
        st.just(None),
        st.sampled_from(["text/csv", "application/json; charset=utf-8", "", "APPLICATION/JSON"]),
        unicode_text,
    )
    return st.tuples(st.sampled_from(sorted(EVENTS)), bodies, headers, st.booleans())


def feeds_of(records, schema):
    feeds = {}
    for f in schema.features:
        if f.kind == NUMERIC:
            values = [np.nan if r[f.name] is None else r[f.name] for r in records]
            feeds[f.name] = np.array(values, dtype=np.float32).reshape(-1, 1)
        else:
            values = ["" if r[f.name] is None else r[f.name] for r in records]
            feeds[f.name] = np.array(values, dtype=object).reshape(-1, 1)
    return feeds


def check(app, reference, flavour, kind, body, payload, content_type, encode):
    headers = None
    if content_type is not None:
        key = "Content-Type" if flavour == "v1" else "content-type"
        headers = {key: content_type}
    if encode:
        body = base64.b64encode(body.encode("utf-8", "surrogatepass")).decode()
    event = EVENTS[flavour]("POST", "/predict", body, headers=headers, base64_body=encode)
    response = app.handler(event, None)
    status, text = response["statusCode"], response["body"]
    assert 200 <= status < 500, (status, text[:500])
    assert len(text.encode("utf-8")) <= MAX_RESPONSE_BYTES, (status, len(text))
    answer = json.loads(text)
    if status >= 400:
        assert isinstance(answer["message"], str) and answer["message"]
        for problem in answer.get("errors", []):
            assert set(problem) == {"record", "field", "message"}
            if not problem["message"].startswith("record must be an object"):
                assert isinstance(problem["field"], str), problem
        return status
    if kind == "valid" and content_type in (
        None,
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
    ):
        probability, label = reference.run(
            ["probability", "label"], feeds_of(payload["records"], app.MODEL.schema)
        )
        names = app.MODEL.labels
        assert answer["predictions"] == [
            {"probability": round(float(p), 7), "label": names[int(k)]}
            for p, k in zip(probability.tolist(), label.tolist(), strict=True)
        ]
    return status


def test_generated_requests_never_get_a_5xx_and_get_bounded_answers(app, reference):
    seen = {"n": 0, "200": 0, "4xx": 0}

    @settings(max_examples=FUZZ_EXAMPLES)
    @given(request=requests(app.MODEL.schema))
    def run(request):
        flavour, (kind, body, payload), content_type, encode = request
        status = check(app, reference, flavour, kind, body, payload, content_type, encode)
        seen["n"] += 1
        seen["200" if status == 200 else "4xx"] += 1

    app.metrics.disabled = True  # 10,000 EMF lines are not what this checks
    app.logger.setLevel("WARNING")
    try:
        run()
    finally:
        app.metrics.disabled = False
        app.logger.setLevel("INFO")
    assert seen["n"] >= FUZZ_EXAMPLES
    assert seen["200"] > FUZZ_EXAMPLES // 20 and seen["4xx"] > FUZZ_EXAMPLES // 4, seen


def test_many_long_unknown_field_names_get_a_short_answer(app, make_event):
    names = {f"{'x' * 1000}{i}": 1 for i in range(4000)}  # about 4 MB of names
    for body in ({"records": [RECORD], **names}, {"records": [{**RECORD, **names}] * 1}):
        response = app.handler(make_event("POST", "/predict", json.dumps(body)), None)
        assert response["statusCode"] == 400
        assert len(response["body"]) <= MAX_RESPONSE_BYTES
        answer = json.loads(response["body"])
        assert "unknown" in (answer["message"] + json.dumps(answer.get("errors", [])))


@pytest.mark.parametrize(
    ("literal", "message"),
    [
        ("9" * 5000, "out of float32 range"),
        ("1e999", "out of float32 range"),
        ("-1e400", "out of float32 range"),
    ],
)
def test_a_number_too_large_for_any_float_names_its_field(app, make_event, literal, message):
    body = json.dumps({"records": [RECORD]}).replace('"age": 41.0', f'"age": {literal}')
    response = app.handler(make_event("POST", "/predict", body), None)
    answer = json.loads(response["body"])
    assert response["statusCode"] == 400
    assert answer["errors"] == [{"record": 0, "field": "age", "message": f"number is {message}"}]


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("1." + "0" * 399, 1.0),  # 401 characters: the value decides, not the length
        ("1." + "0" * 100_000, 1.0),
        ("0." + "0" * 5000 + "1e5000", 0.1),
        ("-" + "0." + "9" * 3000, -1.0),
        ("3" + "0" * 37, 3e37),
    ],
)
def test_a_long_literal_whose_value_fits_float32_is_scored(app, make_event, literal, value):
    body = json.dumps({"records": [RECORD, {**RECORD, "age": value}]})
    body = body.replace('"age": 41.0', f'"age": {literal}', 1)
    assert len(body) < 200_000
    response = app.handler(make_event("POST", "/predict", body), None)
    answer = json.loads(response["body"])
    assert response["statusCode"] == 200, answer
    first, second = answer["predictions"]
    assert first == second  # the long spelling scores as the short one


def test_an_integer_longer_than_python_reads_is_out_of_range_without_a_traceback(app, make_event):
    body = json.dumps({"records": [RECORD]})
    body = body.replace('"age": 41.0', f'"age": -{"7" * 200_000}')
    response = app.handler(make_event("POST", "/predict", body), None)
    answer = json.loads(response["body"])
    assert response["statusCode"] == 400
    assert answer["errors"] == [
        {"record": 0, "field": "age", "message": "number is out of float32 range"}
    ]


def test_an_unpaired_surrogate_escape_is_a_400_naming_the_field(app, make_event):
    body = json.dumps({"records": [RECORD]}).replace('"premium"', '"\\ud800x"')
    response = app.handler(make_event("POST", "/predict", body), None)
    answer = json.loads(response["body"])
    assert response["statusCode"] == 400 and answer["errors"][0]["field"] == "plan"
    assert "surrogate" in answer["errors"][0]["message"]
