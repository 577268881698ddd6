"""A small messy table end to end: train -> export (parity) -> /predict and the
CSV scoring path take the raw strings, and a malformed value names its column."""

import contextlib
import io
import json

import numpy as np
import pandas as pd
import pytest

from tests.messy import write_messy


@pytest.fixture(scope="module")
def messy_run(tmp_path_factory):
    from export.cli import run as export_run
    from train.cli import run as train_run

    folder = tmp_path_factory.mktemp("messy")
    data = write_messy(folder / "messy.csv", rows=1500)
    run = folder / "run"
    args = ["--data", str(data), "--target", "churned", "--out", str(run), "--no-progress"]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert train_run([*args, "--trials", "2", "--folds", "3", "--no-report"]) == 0
    assert export_run(["--run", str(run)]) == 0
    return data, run, printed.getvalue()


def test_schema_parity_and_openapi(messy_run):
    _, run, printed = messy_run
    assert "signup_date: date, format %Y-%m-%d" in printed
    assert "last_seen: date, format %d/%m/%Y" in printed and "encoding: zip:" in printed
    schema = json.loads((run / "schema.json").read_text())
    kinds = {f["name"]: (f["kind"], f.get("format", "")) for f in schema["features"]}
    assert kinds["signup_date"] == ("date", "%Y-%m-%d")
    assert kinds["last_seen"] == ("date", "%d/%m/%Y")
    assert kinds["monthly_spend"] == ("number_text", "$#,##0.00")
    assert kinds["autopay"] == ("boolean", "TRUE/FALSE")
    assert "customer_id" not in kinds and "note" not in kinds
    assert {f["name"]: f.get("encoding") for f in schema["features"]}["zip"]
    parity = json.loads((run / "parity.json").read_text())
    assert parity["passed"] and parity["max_abs_diff"] <= 1e-5
    assert "%d/%m/%Y" in parity["malformed_rejected"]["last_seen"]
    spec = json.loads((run / "openapi.json").read_text())
    assert '"format": "date"' in json.dumps(spec)


def test_predict_takes_raw_strings_and_names_a_bad_date(messy_run):
    from lambda_fn.api import predict
    from lambda_fn.config import Config
    from lambda_fn.model import Model

    data, run, _ = messy_run
    model = Model.from_bytes((run / "model.onnx").read_bytes())
    rows = pd.read_csv(data, dtype=str, keep_default_na=False).head(3)
    records = rows[model.schema.names].to_dict("records")
    records[1]["last_seen"] = "2023-07-27"  # ISO is taken whatever the trained format
    records[2]["last_seen"] = ""  # missing
    ok = predict(model, Config.from_env({}), json.dumps({"records": records}), "application/json")
    assert ok.status == 200, ok.body
    records[0]["last_seen"] = "31/02/2023"
    bad = predict(model, Config.from_env({}), json.dumps({"records": records}), "application/json")
    assert bad.status == 400
    assert bad.body["errors"][0]["field"] == "last_seen"
    assert "%d/%m/%Y" in bad.body["errors"][0]["message"]


def test_csv_path_scores_raw_cells_and_writes_an_error_row(messy_run):
    from lambda_fn.batch.csv_reader import Records
    from lambda_fn.batch.scoring import Outputs, feature_columns, score_chunks
    from lambda_fn.model import Model

    data, run, _ = messy_run
    model = Model.from_bytes((run / "model.onnx").read_bytes())
    lines = data.read_text().splitlines()[:6]
    lines[3] = lines[3].replace("TRUE", "perhaps").replace("FALSE", "perhaps")
    records = Records(io.BytesIO(("\n".join(lines) + "\n").encode()))
    _, header = records.header()
    scored, errors = io.BytesIO(), io.BytesIO()
    out = Outputs(scored, errors)
    score_chunks(records.chunks(100, len(header)), feature_columns(header, model), model, out)
    assert out.tally.rows_scored == 4 and out.tally.rows_rejected == 1
    error = errors.getvalue().decode()
    assert "autopay" in error and "expected a boolean" in error and error.startswith("4,")
    probabilities = [float(r.rsplit(",", 2)[1]) for r in scored.getvalue().decode().splitlines()]
    assert np.all((np.array(probabilities) >= 0) & (np.array(probabilities) <= 1))
