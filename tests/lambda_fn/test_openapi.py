"""GET /openapi.json: a valid OpenAPI 3.1 document, generated from the model's
schema, that describes every route, the exact request body and every answer
the function gives, and that export writes the same document beside the model."""

import json
import subprocess
import sys

import jsonschema
import pytest
from openapi_spec_validator import validate

from contract.values import NUMBER_TEXT
from lambda_fn import openapi
from lambda_fn.config import Config
from tests.conftest import ROOT
from tests.lambda_fn.conftest import RECORD, call


@pytest.fixture
def doc(app, make_event):
    status, body = call(app, make_event("GET", "/openapi.json"))
    assert status == 200
    return body


def conforms(doc, name, instance):
    """`instance` validates against components/schemas/<name> of `doc`."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    jsonschema.Draft202012Validator(schema).validate(instance)


def test_served_document_is_valid_openapi_3_1(doc):
    validate(doc)
    assert doc["openapi"] == "3.1.0"


def test_export_writes_the_same_document_beside_the_model(app, model_path):
    written = json.loads((model_path.parent / "openapi.json").read_text())
    validate(written)
    assert written == openapi.build(app.MODEL, Config())


def test_info_names_model_version_threshold_and_labels(doc, model):
    info = doc["info"]
    assert info["version"] == model.version
    assert info["x-model"]["threshold"] == model.threshold
    assert info["x-model"]["labels"] == {"negative": "no", "positive": "yes"}
    assert model.version in info["description"] and "'yes'" in info["description"]


def test_request_body_has_one_property_per_feature(doc, model):
    record = doc["components"]["schemas"]["Record"]
    assert list(record["properties"]) == model.schema.names
    assert record["required"] == model.schema.names
    assert record["additionalProperties"] is False
    assert record["properties"]["age"]["type"] == ["number", "string", "null"]
    assert record["properties"]["age"]["pattern"] == NUMBER_TEXT
    plan = record["properties"]["plan"]
    assert plan["type"] == ["string", "null"]
    for category in ("basic", "plus", "premium"):
        assert f'"{category}"' in plan["description"]
    records = doc["components"]["schemas"]["PredictRequest"]["properties"]["records"]
    assert records["minItems"] == 1 and records["maxItems"] == Config().max_records
    conforms(doc, "PredictRequest", {"records": [RECORD]})
    with pytest.raises(jsonschema.ValidationError):
        conforms(doc, "PredictRequest", {"records": [{**RECORD, "extra": 1}]})


def test_limits_come_from_the_function_configuration(app, model):
    doc = openapi.document(model, Config(max_records=7, max_body_bytes=4096))
    records = doc["components"]["schemas"]["PredictRequest"]["properties"]["records"]
    assert records["maxItems"] == 7 and "4096 bytes" in records["description"]


def test_declares_iam_sigv4_security(doc):
    scheme = doc["components"]["securitySchemes"]["sigv4"]
    assert scheme["x-amazon-apigateway-authtype"] == "awsSigv4"
    assert scheme["type"] == "apiKey" and scheme["name"] == "Authorization"
    assert doc["security"] == [{"sigv4": []}]


def test_every_route_is_described(doc, app):
    routes = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    assert routes == {
        ("POST", "/predict"),
        ("GET", "/schema"),
        ("GET", "/health"),
        ("GET", "/openapi.json"),
    }


def answers(app, make_event):
    """(route, status, body) for a success and every kind of rejection the function gives."""
    post = lambda body, **kw: call(app, make_event("POST", "/predict", body, **kw))  # noqa: E731
    out = [("/predict", *post({"records": [RECORD]}))]
    for bad in (
        "{not json",
        "[]",
        {"rows": []},
        {"records": []},
        {"records": [{**RECORD, "age": "x"}]},
    ):
        out.append(("/predict", *post(bad)))
    out.append(("/predict", *post("{}", headers={"content-type": "text/plain"})))
    app.use_model(app.MODEL, Config(max_records=2, max_body_bytes=1024))
    try:
        out.append(("/predict", *post({"records": [RECORD] * 3})))
        out.append(("/predict", *post({"records": [{**RECORD, "plan": "x" * 2000}]})))
    finally:
        app.use_model(app.MODEL, Config())
    for path in ("/schema", "/health", "/openapi.json"):
        out.append((path, *call(app, make_event("GET", path))))
    return out


def test_every_answer_is_documented_and_matches_its_schema(app, make_event, doc):
    seen = set()
    for path, status, body in answers(app, make_event):
        method = "post" if path == "/predict" else "get"
        responses = doc["paths"][path][method]["responses"]
        assert str(status) in responses, (path, status, body)
        ref = responses[str(status)]["content"]["application/json"]["schema"].get("$ref")
        if ref:
            conforms(doc, ref.rsplit("/", 1)[1], body)
        seen.add(status)
    assert seen >= {200, 400, 413, 415}


def test_validation_errors_name_the_field_in_the_documented_shape(app, make_event, doc):
    _, body = call(app, make_event("POST", "/predict", {"records": [{**RECORD, "age": "x"}]}))
    conforms(doc, "Error", body)
    assert body["errors"] == [
        {"record": 0, "field": "age", "message": "expected a number, got 'x'"}
    ]


def test_the_document_is_built_on_first_request_not_at_import(model_path):
    code = (
        "import os, sys; os.environ['MODEL_PATH'] = sys.argv[1]\n"
        "import lambda_fn.app\n"
        "print('lambda_fn.openapi' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(model_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_export_writes_the_document_without_the_serving_code(model_path, tmp_path):
    """contract/openapi.py builds it from the graph's metadata: no lambda_fn import."""
    code = (
        "import sys; from pathlib import Path\n"
        "from export.cli import write_openapi\n"
        "write_openapi(Path(sys.argv[1]).read_bytes(), Path(sys.argv[2]))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'lambda_fn'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(model_path), str(tmp_path / "openapi.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    assert json.loads((tmp_path / "openapi.json").read_text()) == json.loads(
        (model_path.parent / "openapi.json").read_text()
    )


def test_the_contracts_default_limits_are_the_functions():
    from contract import openapi as contract_openapi

    assert Config().max_records == contract_openapi.DEFAULT_MAX_RECORDS
    assert Config().max_body_bytes == contract_openapi.DEFAULT_MAX_BODY_BYTES


def test_the_deployed_document_names_only_the_deployed_server(doc):
    assert [s["url"] for s in doc["servers"]] == [
        "https://{apiId}.execute-api.{region}.amazonaws.com"
    ]


def test_the_local_document_drops_only_the_gateway_layer(doc):
    from contract.openapi import for_local

    local = for_local(doc, "http://127.0.0.1:9999")
    assert local["servers"] == [
        {"url": "http://127.0.0.1:9999", "description": "make serve (local, unauthenticated)"}
    ]
    assert "security" not in local and "security" in doc  # the original is untouched
    assert local["components"]["schemas"] == doc["components"]["schemas"]
    validate(local)
