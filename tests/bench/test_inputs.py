"""The inputs: the data without its target, repeated, widened, and as a request."""

import csv
import json

from bench import inputs
from lambda_fn.model import Model
from tests.conftest import make_frame


def test_big_and_wide_files_leave_the_target_out(tmp_path):
    data = tmp_path / "data.csv"
    make_frame(n=30, seed=1).to_csv(data, index=False)
    big, wide = tmp_path / "big.csv", tmp_path / "wide.csv"
    assert inputs.make_big_csv(data, "y", 75, big) == 75
    rows = list(csv.reader(big.open()))
    source = list(csv.reader(data.open()))
    drop = source[0].index("y")
    assert "y" not in rows[0] and len(rows) == 76
    assert rows[31] == [c for i, c in enumerate(source[1]) if i != drop]  # repeats from the top
    assert inputs.make_wide_csv(data, "y", 50, 7, wide) == 7
    widened = list(csv.reader(wide.open()))
    assert len(widened) == 8 and all(len(r) == 50 for r in widened)
    assert widened[0][-1] == f"filler_{50 - len(rows[0]) - 1}"


def test_rows_for_mb_makes_a_file_of_about_that_size(tmp_path):
    data = tmp_path / "data.csv"
    make_frame(n=2000, seed=2).to_csv(data, index=False)
    out = tmp_path / "one.csv"
    inputs.make_big_csv(data, "y", inputs.rows_for_mb(data, 1), out)
    assert 0.8 < out.stat().st_size / (1 << 20) < 1.2


def test_the_first_row_as_a_request_typed_by_the_schema(model_path):
    model = Model.load(str(model_path))
    data = model_path.parents[1] / "customers.csv"  # what the model_path fixture trained on
    record = inputs.first_record(data, model.schema)
    assert list(record) == model.schema.names
    for f in model.schema.features:
        assert isinstance(record[f.name], float if f.kind == "numeric" else str) or (
            f.kind == "numeric" and record[f.name] is None
        )
    event = inputs.api_event(record)
    assert json.loads(event["body"]) == {"records": [record]}
