"""The validator accepts exactly what the contract allows: hypothesis draws each
feature's value from the served document's schema and from outside it, a JSON
Schema validator (not our code) says which side of the contract a value is on,
and the handler must score the first and answer 400 to the second."""

from __future__ import annotations

import math

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from contract.cells import FLOAT32_MAX
from tests.lambda_fn.conftest import call, http_event


def from_schema(schema: dict):
    """Values a feature's schema allows (the subset contract/values.py uses)."""
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    options = []
    if "null" in types:
        options.append(st.none())
    if "number" in types:
        low, high = schema["minimum"], schema["maximum"]
        options.append(st.floats(low, high, allow_nan=False, allow_infinity=False))
        options.append(st.integers(math.ceil(low), math.floor(high)))
    if "string" in types:
        pattern = schema.get("pattern")
        options.append(st.from_regex(pattern) if pattern else st.text())
    return st.one_of(options)


JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)
# Near misses: numbers as text in every spelling float() reads, number-like
# text, values at and just past float32's limit, codes for categories.
NEAR = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers().map(str),
    st.sampled_from(
        [
            " 41",
            "41 ",
            "1_000",
            "1e20",
            "-1E+38",
            "\u0664\u0661",
            "0x10",
            "inf",
            "nan",
            "1.",
            ".5",
            "+.5e-3",
            "NA",
            "",
            "null",
            "true",
            "41\n",
            "\t41",
        ]
    ),
    st.sampled_from(
        [FLOAT32_MAX, -FLOAT32_MAX, math.nextafter(FLOAT32_MAX, math.inf), 1e39, -1e300, 0, -0.0]
    ),
)
OUTSIDE = st.one_of(
    NEAR,
    st.recursive(
        JSON_LEAVES,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=5,
    ),
)


@settings(max_examples=600)
@given(data=st.data())
def test_the_server_accepts_exactly_what_the_contract_allows(app, data):
    status, doc = call(app, http_event("GET", "/openapi.json"))
    assert status == 200
    record_schema = doc["components"]["schemas"]["Record"]
    example = doc["components"]["schemas"]["PredictRequest"]["examples"][0]["records"][0]
    name = data.draw(st.sampled_from(sorted(record_schema["properties"])), label="feature")
    schema = record_schema["properties"][name]
    value = data.draw(st.one_of(from_schema(schema), OUTSIDE), label="value")
    allowed = jsonschema.Draft202012Validator(schema).is_valid(value)
    status, answer = call(
        app, http_event("POST", "/predict", {"records": [{**example, name: value}]})
    )
    assert status == (200 if allowed else 400), (name, value, allowed, answer)
    if not allowed:
        assert [e["field"] for e in answer["errors"]] == [name], answer


@settings(max_examples=100)
@given(data=st.data())
def test_values_drawn_from_the_contract_are_inside_it(app, data):
    """The strategy above really draws from the contract (so 'inside' is tested)."""
    status, doc = call(app, http_event("GET", "/openapi.json"))
    for name, schema in doc["components"]["schemas"]["Record"]["properties"].items():
        value = data.draw(from_schema(schema), label=name)
        assert jsonschema.Draft202012Validator(schema).is_valid(value), (name, value)
