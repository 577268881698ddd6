"""Whatever JSON a client sends to /predict, the answer is 200 or 4xx, never 5xx."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lambda_fn.conftest import RECORD, call, http_event, rest_event

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
field_values = st.one_of(
    scalars, st.lists(scalars, max_size=2), st.sampled_from(list(RECORD.values()))
)
records = st.fixed_dictionaries({}, optional={k: field_values for k in [*RECORD, "extra"]})
bodies = st.one_of(
    json_values.map(json.dumps),
    st.lists(st.one_of(records, json_values), max_size=5).map(lambda r: json.dumps({"records": r})),
    st.text(max_size=50),
)

SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(body=bodies, v2=st.booleans())
def test_predict_never_answers_5xx(app, body, v2):
    make = http_event if v2 else rest_event
    status, answer = call(app, make("POST", "/predict", body))
    assert 200 <= status < 500, (status, answer)
    if status == 200:
        assert len(answer["predictions"]) == len(json.loads(body)["records"])
    else:
        assert answer["message"]
