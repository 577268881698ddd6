"""Files dropped into S3 that are not comma-separated CSVs are rejected with a
reason that says what they are, not as missing columns or undecodable text."""

import gzip
import json

import pytest

from tests.conftest import make_frame
from tests.lambda_fn.conftest import bucket_for
from tests.train.test_data_formats import xlsx_bytes

BUCKET = "sniffing"


@pytest.fixture
def s3(app):
    with bucket_for(app, BUCKET) as client:
        yield client


def features_csv(n):
    return make_frame(n=n, seed=0).drop(columns=["y"]).to_csv(index=False)


def read(s3, key):
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()


def drop(app, s3, key, body):
    """Put `body` at `key` and deliver the S3 event to the handler; the file's summary."""
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    event = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": BUCKET}, "object": {"key": key}},
            }
        ]
    }
    return app.handler(event, None)["files"][0]


@pytest.mark.parametrize("sep, name", [(";", "semicolon"), ("\t", "tab")])
def test_other_separator_is_named(app, s3, sep, name):
    text = features_csv(30).replace(",", sep)
    summary = drop(app, s3, "incoming/semi.csv", text.encode())
    assert summary["status"] == "rejected"
    assert f"{name}-separated" in summary["reason"] and "comma-separated" in summary["reason"]
    errors = read(s3, "errors/semi.csv").splitlines()
    assert len(errors) == 2 and errors[1].startswith("1,,,")
    assert json.loads(read(s3, "summaries/semi.csv.json"))["status"] == "rejected"


@pytest.mark.parametrize(
    "key, body, what",
    [
        ("incoming/book.csv", xlsx_bytes(), "Excel .xlsx"),
        ("incoming/packed.csv", gzip.compress(b"age,plan\n1,a\n"), "name it .csv.gz"),
        ("incoming/wide.csv", "age,plan\n1,a\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_binary_object_is_not_a_csv(app, s3, key, body, what):
    summary = drop(app, s3, key, body)
    assert summary["status"] == "rejected"
    assert summary["reason"].startswith("not a CSV") and what in summary["reason"]


def test_gzipped_workbook_is_not_a_csv_either(app, s3):
    summary = drop(app, s3, "incoming/book.csv.gz", gzip.compress(xlsx_bytes()))
    assert summary["status"] == "rejected" and "Excel .xlsx" in summary["reason"]


def test_comma_file_with_semicolons_in_values_is_scored(app, s3):
    text = features_csv(30).replace("premium", '"premium;gold"')
    summary = drop(app, s3, "incoming/ok.csv", text.encode())
    assert summary["status"] == "scored" and summary["rows_scored"] == 30
