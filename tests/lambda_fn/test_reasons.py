"""POST /predict with "explain": K returns each prediction's top reasons from the
graph's contributions; bad values and unexplained models are a 400 that says why."""

import json
import math

import pytest

from lambda_fn import api
from lambda_fn.config import Config
from lambda_fn.model import Model
from lambda_fn.reasons import MAX_EXPLAIN
from tests.lambda_fn.conftest import RECORD, call

RECORDS = [RECORD, {**RECORD, "age": 80, "calls": 0, "plan": "basic"}, {**RECORD, "age": None}]


def predict(app, make_event, body):
    return call(app, make_event("POST", "/predict", body))


def logit(p):
    return math.log(p / (1 - p))


def test_reasons_are_the_largest_contributions_and_add_up(app, make_event):
    status, body = predict(app, make_event, {"records": RECORDS, "explain": MAX_EXPLAIN})
    assert status == 200, body
    explained = json.loads(app.MODEL.metadata["explanation"])["features"]
    columns = [f["name"] for f in explained]
    assert columns[:6] == ["age", "balance", "calls", "plan", "region", "age_calls"]
    for pred in body["predictions"]:
        reasons = pred["reasons"]
        assert sorted(r["feature"] for r in reasons) == sorted(columns)
        sizes = [abs(r["contribution"]) for r in reasons]
        assert sizes == sorted(sizes, reverse=True)
        total = body["explanation_base"] + sum(r["contribution"] for r in reasons)
        p = pred["probability"]
        assert total == pytest.approx(logit(p), abs=1e-4 + 1e-7 / (p * (1 - p)))
        derived = next(r for r in reasons if r["feature"] == "age_calls")
        assert derived["inputs"] == ["age", "calls"]
        assert "explanation_residual" not in pred  # one model: exactly additive


def test_top_k_keeps_the_k_largest_and_scores_are_unchanged(app, make_event):
    _, plain = predict(app, make_event, {"records": RECORDS})
    _, all_reasons = predict(app, make_event, {"records": RECORDS, "explain": MAX_EXPLAIN})
    status, top3 = predict(app, make_event, {"records": RECORDS, "explain": 3})
    assert status == 200
    for a, b, c in zip(
        plain["predictions"], top3["predictions"], all_reasons["predictions"], strict=True
    ):
        assert (a["probability"], a["label"]) == (b["probability"], b["label"])
        assert b["reasons"] == c["reasons"][:3]
        assert "reasons" not in a
    assert "explanation_base" not in plain


def test_explain_zero_is_a_plain_answer(app, make_event):
    _, plain = predict(app, make_event, {"records": RECORDS})
    status, zero = predict(app, make_event, {"records": RECORDS, "explain": 0})
    assert status == 200 and zero == plain


@pytest.mark.parametrize("value", [-1, MAX_EXPLAIN + 1, "3", 2.5, True, None, [3]])
def test_bad_explain_values_are_400_naming_it(app, make_event, value):
    status, body = predict(app, make_event, {"records": [RECORD], "explain": value})
    assert status == 400
    assert body["message"].startswith('"explain" must be an integer from 0 to 1000')


def test_unknown_fields_beside_explain_are_still_400(app, make_event):
    status, body = predict(app, make_event, {"records": [RECORD], "explain": 2, "why": 1})
    assert status == 400 and "'why'" in body["message"]


@pytest.fixture(scope="module", params=["keras", "nb"])
def unexplained_model(tmp_path_factory, request):
    """A model whose learner has no contributions (a Keras network, Gaussian
    naive Bayes), trained and exported for real."""
    from tests.conftest import make_frame, train_and_export

    folder = tmp_path_factory.mktemp(request.param)
    data = folder / "customers.csv"
    make_frame(n=300, seed=4).to_csv(data, index=False)
    options = ("--models", request.param, "--samplers", "none", "--folds", "2")
    run = train_and_export(data, folder / "run", *options)
    return Model.from_bytes((run / "model.onnx").read_bytes(), threads=1)


def test_a_model_without_contributions_is_400_when_asked_for_reasons(unexplained_model):
    body = json.dumps({"records": [RECORD], "explain": 3})
    outcome = api.predict(unexplained_model, Config(), body, "application/json")
    learner = unexplained_model.metadata["learner"]
    assert outcome.status == 400
    assert outcome.body["message"].startswith(f'"explain": {learner} models are not explained (')
    plain = api.predict(unexplained_model, Config(), json.dumps({"records": [RECORD]}), None)
    assert plain.status == 200 and "reasons" not in plain.body["predictions"][0]
    assert (
        api.predict(
            unexplained_model, Config(), json.dumps({"records": [RECORD], "explain": 0}), None
        ).status
        == 200
    )


def test_the_openapi_document_describes_explain_and_reasons(app, make_event):
    import jsonschema

    from lambda_fn import openapi

    doc = openapi.build(app.MODEL, Config())
    schemas = doc["components"]["schemas"]

    def conforms(name, instance):
        ref = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
        jsonschema.Draft202012Validator(ref).validate(instance)

    request = {"records": RECORDS, "explain": 3}
    conforms("PredictRequest", request)
    status, body = predict(app, make_event, request)
    assert status == 200
    conforms("PredictResponse", body)
    names = schemas["Prediction"]["properties"]["reasons"]["items"]["properties"]["feature"]
    assert names["enum"] == reasons_columns(app)
    with pytest.raises(jsonschema.ValidationError):
        conforms("PredictRequest", {"records": RECORDS, "explain": MAX_EXPLAIN + 1})


def test_a_model_without_contributions_documents_explain_as_zero_only(unexplained_model):
    from lambda_fn import openapi

    request = openapi.build(unexplained_model, Config())["components"]["schemas"]["PredictRequest"]
    assert request["properties"]["explain"]["maximum"] == 0
    assert "reasons" not in json.dumps(
        openapi.build(unexplained_model, Config())["components"]["schemas"]["Prediction"]
    )


def reasons_columns(app):
    return [f["name"] for f in json.loads(app.MODEL.metadata["explanation"])["features"]]


def test_an_ensemble_answers_with_its_residual(tmp_path):
    """A real ensemble graph (XGBoost + logistic regression) served by the API."""
    from export import contributions, graph
    from tests.export.test_contributions import fit, make_data
    from train.trained import Member, TrainedModel, WeightedAverage

    data = make_data(tmp_path)
    members = [
        Member("a", "xgboost", "class_weight", 0.5, fit(data, "xgboost").pipeline),
        Member("b", "logreg", "class_weight", 0.5, fit(data, "logreg").pipeline),
    ]
    model = TrainedModel(
        WeightedAverage(members), "ensemble", "class_weight", 0.5, None, data[0], members
    )
    proto = graph.build_graph(model)
    entry = contributions.metadata_for(proto, model)
    graph.set_metadata(
        proto,
        {"schema": model.schema.to_dict(), "threshold": "0.5", "model_version": "e1", **entry},
    )
    served = Model.from_bytes(proto.SerializeToString(), threads=1)
    body = json.dumps({"records": RECORDS, "explain": MAX_EXPLAIN})
    outcome = api.predict(served, Config(), body, None)
    assert outcome.status == 200, outcome.body
    base = outcome.body["explanation_base"]
    for pred in outcome.body["predictions"]:
        total = (
            base + sum(r["contribution"] for r in pred["reasons"]) + pred["explanation_residual"]
        )
        assert total == pytest.approx(logit(pred["probability"]), abs=1e-4)
    assert any(abs(p["explanation_residual"]) > 1e-3 for p in outcome.body["predictions"])


def test_a_large_batch_on_several_threads_gets_each_rows_own_contributions(model_path):
    """The explain flag goes whole to every slice of rows; each row's reasons
    are those it gets scored alone."""
    import numpy as np

    from lambda_fn import reasons
    from tests.lambda_fn.test_model import _random_columns

    model = Model.from_bytes(model_path.read_bytes(), threads=3)
    columns = _random_columns(model.schema, 1500)
    probability, label, contributions = reasons.score(model, columns)
    alone = Model.from_bytes(model_path.read_bytes(), threads=1)
    p1, l1, c1 = reasons.score(alone, columns)
    assert contributions.shape == (1500, len(reasons.explanation(model).names))
    assert np.array_equal(probability, p1) and np.array_equal(label, l1)
    assert np.array_equal(contributions, c1)
