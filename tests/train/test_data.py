"""Loading a CSV: kinds are inferred, identifiers dropped, bad input named."""

import gzip

import numpy as np
import pandas as pd
import pytest

from contract.cells import MISSING_CATEGORY
from contract.schema import CATEGORICAL, NUMERIC
from train.data import UsageError, load_dataset


def kinds(dataset):
    return {f.name: f.kind for f in dataset.schema.features}


def test_numeric_column_with_blanks_and_na_tokens_is_numeric_with_missing(tmp_path):
    path = tmp_path / "d.csv"
    rows = ["amount,kind,y"] + [
        f"{i},{'ab'[i % 2]},{'yes' if i % 5 == 0 else 'no'}" for i in range(40)
    ]
    rows[3] = "N/A,a,no"
    rows[4] = ",b,no"
    path.write_text("\n".join(rows) + "\n")
    ds = load_dataset(str(path), "y")
    assert kinds(ds) == {"amount": NUMERIC, "kind": CATEGORICAL}
    assert ds.X["amount"].dtype == np.float32
    assert ds.X["amount"].isna().sum() == 2


def test_unique_text_column_is_dropped_as_identifier_unless_kept(csv_path):
    ds = load_dataset(str(csv_path), "y")
    assert "customer_id" not in ds.schema.names
    assert "identifier" in ds.schema.dropped["customer_id"]
    assert any("customer_id" in note for note in ds.notes)
    kept = load_dataset(str(csv_path), "y", keep=("customer_id",))
    assert "customer_id" in kept.schema.names


def test_missing_categories_become_the_missing_marker(csv_path):
    ds = load_dataset(str(csv_path), "y")
    assert (ds.X["plan"] == MISSING_CATEGORY).sum() > 0
    plan = next(f for f in ds.schema.features if f.name == "plan")
    assert MISSING_CATEGORY in plan.categories


def test_default_positive_is_the_minority_class(csv_path):
    ds = load_dataset(str(csv_path), "y")
    assert ds.schema.positive_label == "yes"
    assert ds.schema.negative_label == "no"
    assert 0 < ds.y.mean() < 0.5


def test_positive_matches_case_insensitively_and_keeps_file_spelling(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame({"x": range(30), "churn": ["TRUE"] * 5 + ["FALSE"] * 25}).to_csv(path, index=False)
    ds = load_dataset(str(path), "churn", positive="True")
    assert ds.schema.positive_label == "TRUE"
    assert ds.y.sum() == 5


def test_category_override_turns_a_numeric_code_into_a_category(csv_path):
    ds = load_dataset(str(csv_path), "y", categorical=("calls",))
    assert kinds(ds)["calls"] == CATEGORICAL


def test_gzip_csv_is_read(tmp_path, frame):
    path = tmp_path / "d.csv.gz"
    path.write_bytes(gzip.compress(frame.to_csv(index=False).encode()))
    assert len(load_dataset(str(path), "y").y) == len(frame)


def test_sha256_is_of_the_file_bytes(csv_path):
    import hashlib

    assert (
        load_dataset(str(csv_path), "y").sha256 == hashlib.sha256(csv_path.read_bytes()).hexdigest()
    )


@pytest.mark.parametrize(
    ("content", "target", "message"),
    [
        ("", "y", "is empty"),
        ("a,y\n", "y", "no data rows"),
        ("a,b\n1,2\n", "y", "target column 'y' not found"),
        ("a,y\n1,no\n2,no\n", "y", "one class only"),
        ("a,y\n1,no\n2,yes\n3,maybe\n", "y", "3 classes"),
        ("a,y\n1,no\n2,\n3,yes\n", "y", "1 missing value(s), first at line(s) 3"),
    ],
)
def test_bad_files_raise_a_usage_error_naming_the_problem(tmp_path, content, target, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_dataset(str(path), target)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(UsageError, match="data file not found: .*nope.csv"):
        load_dataset(str(tmp_path / "nope.csv"), "y")


def test_unknown_positive_value_lists_the_values(csv_path):
    with pytest.raises(UsageError, match="'maybe' is not a value of 'y'.*'no', 'yes'"):
        load_dataset(str(csv_path), "y", positive="maybe")


def test_numeric_override_on_text_names_line_and_value(csv_path):
    with pytest.raises(UsageError, match="--numeric 'plan': line 2"):
        load_dataset(str(csv_path), "y", numeric=("plan",))


def test_reads_from_s3(frame):
    import boto3
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="data")
        s3.put_object(Bucket="data", Key="in/c.csv", Body=frame.to_csv(index=False).encode())
        ds = load_dataset("s3://data/in/c.csv", "y")
        assert len(ds.y) == len(frame)
        with pytest.raises(UsageError, match="cannot read s3://data/missing.csv: NoSuchKey"):
            load_dataset("s3://data/missing.csv", "y")


def test_feature_named_like_an_output_is_refused(tmp_path, frame):
    path = tmp_path / "d.csv"
    frame.rename(columns={"calls": "label"}).to_csv(path, index=False)
    with pytest.raises(UsageError, match="'label' .* would collide with the model's outputs"):
        load_dataset(str(path), "y")
