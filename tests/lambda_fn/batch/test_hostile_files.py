"""Files built to break the batch path: each is rejected with a clear reason
in its summary, or scored with its bad rows named; none is scored half-read."""

from __future__ import annotations

import gzip
import json

import pytest

from lambda_fn import batch
from lambda_fn.batch import csv_reader, s3_io
from lambda_fn.config import Config
from tests.lambda_fn.batch.conftest import BUCKET
from tests.lambda_fn.test_batch import features_csv, read, rows, s3_event


def score(s3, model, key, body):
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return batch.score_object(s3, BUCKET, key, model, Config())


def assert_rejected_without_scores(s3, result, reason_part):
    assert result["status"] == "rejected", result
    assert reason_part in result["reason"]
    assert result["rows_in"] == result["rows_scored"] + result["rows_rejected"]
    assert result["rows_scored"] == 0
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="scored/").get("KeyCount", 0) == 0
    stored = json.loads(read(s3, result["outputs"]["summary"]))
    assert stored["status"] == "rejected" and stored["reason"] == result["reason"]


def test_a_truncated_gzip_is_rejected_not_scored_as_far_as_it_goes(s3, model):
    data = gzip.compress(features_csv(5000).encode())
    result = score(s3, model, "incoming/cut.csv.gz", data[: len(data) * 2 // 3])
    assert_rejected_without_scores(s3, result, "the gzip data is truncated")


def test_a_damaged_gzip_is_rejected(s3, model):
    data = bytearray(gzip.compress(features_csv(5000).encode()))
    data[len(data) // 2 : len(data) // 2 + 64] = b"\x00" * 64
    result = score(s3, model, "incoming/bad.csv.gz", bytes(data))
    assert_rejected_without_scores(s3, result, "the gzip data is damaged")


def test_a_gzip_that_inflates_past_its_allowance_is_rejected(s3, model, monkeypatch):
    monkeypatch.setattr(s3_io, "MIN_INFLATE_ALLOWANCE", 256 << 10)
    header = features_csv(1).splitlines()[0] + "\n"
    bomb = gzip.compress((header + "C1,1,2,3,basic,north\n" * 60_000).encode(), 9)
    result = score(s3, model, "incoming/bomb.csv.gz", bomb)
    assert_rejected_without_scores(s3, result, "decompresses to more than")


def test_upper_case_extensions_are_read_and_written_as_gzip(app, s3):
    text = features_csv(30)
    s3.put_object(Bucket=BUCKET, Key="incoming/UP.CSV.GZ", Body=gzip.compress(text.encode()))
    result = app.handler(s3_event("incoming/UP.CSV.GZ"), None)["files"][0]
    assert result["rows_scored"] == 30
    body = s3.get_object(Bucket=BUCKET, Key="scored/UP.CSV.GZ")["Body"].read()
    assert len(rows(gzip.decompress(body).decode())) == 31


def test_a_header_with_too_many_columns_rejects_the_file(s3, model):
    names = features_csv(1).splitlines()[0]
    header = names + "," + ",".join(f"x{i}" for i in range(csv_reader.MAX_COLUMNS))
    result = score(s3, model, "incoming/wide.csv", (header + "\n").encode())
    assert_rejected_without_scores(s3, result, f"the limit is {csv_reader.MAX_COLUMNS:,}")


def test_a_very_wide_file_is_read_in_chunks_of_bounded_fields(s3, model, monkeypatch):
    taken = []
    real = csv_reader.Records.take

    def spy(self, n, width):
        chunk = real(self, n, width)
        if chunk is not None:
            taken.append(len(chunk.fields))
        return chunk

    monkeypatch.setattr(csv_reader.Records, "take", spy)
    lines = features_csv(200).splitlines()
    extra = 5000 - 6
    body = "\n".join(
        [lines[0] + "".join(f",e{i}" for i in range(extra))]
        + [line + ",0" * extra for line in lines[1:]]
    )
    result = score(s3, model, "incoming/5000.csv", body.encode())
    assert result["rows_scored"] == 200
    assert max(taken) <= csv_reader.MAX_CHUNK_FIELDS and len(taken) >= 5


@pytest.mark.parametrize("cell", ["=HYPERLINK(1)", "+1+1", "-2-2", "@SUM(A1)", "\tx", "\rx"])
def test_cells_echoed_into_errors_cannot_run_as_formulas(s3, model, cell):
    lines = features_csv(4).splitlines()
    fields = lines[2].split(",")
    fields[1] = '"' + cell + '"'  # the age column: not a number, so echoed into errors/
    lines[2] = ",".join(fields)
    result = score(s3, model, "incoming/f.csv", "\n".join(lines).encode())
    assert result["rows_rejected"] == 1
    (error,) = rows(read(s3, "errors/f.csv"))[1:]
    assert error[1] == "age" and error[2] == "'" + cell


def _with_job(n: int, bad_row: int, job: str) -> str:
    """features_csv with a `job` column the model does not use (as in the
    marketing data); row `bad_row` (0-based) holds `job`."""
    lines = features_csv(n).splitlines()
    jobs = ["admin"] * n
    jobs[bad_row] = job
    return (
        "\n".join([lines[0] + ",job"] + [f"{r},{j}" for r, j in zip(lines[1:], jobs, strict=True)])
        + "\n"
    )


def test_a_stray_nul_costs_its_row_named_by_column_not_the_file(s3, model):
    # A header, 30 good rows, one whose job is nul\x00byte, 30 good rows.
    body = _with_job(61, 30, "nul\x00byte").encode()
    assert body.count(b"\x00") == 1
    result = score(s3, model, "incoming/nul.csv", body)
    assert result["status"] == "scored", result
    assert (result["rows_in"], result["rows_scored"], result["rows_rejected"]) == (61, 60, 1)
    (error,) = rows(read(s3, "errors/nul.csv"))[1:]
    assert error[:3] == ["32", "job", "nul\\x00byte"] and "NUL" in error[3]
    scored = read(s3, "scored/nul.csv")
    assert "\x00" not in scored and len(scored.splitlines()) == 61


@pytest.mark.parametrize("quoted", [False, True])
def test_a_nul_in_a_feature_column_names_that_column(s3, model, quoted):
    lines = features_csv(40).splitlines()
    fields = lines[5].split(",")
    names = lines[0].split(",")
    column = names.index("plan")
    fields[column] = '"pre\x00mium, quoted"' if quoted else "pre\x00mium"
    lines[5] = ",".join(fields)
    result = score(s3, model, "incoming/nulplan.csv", ("\n".join(lines) + "\n").encode())
    assert (result["rows_scored"], result["rows_rejected"]) == (39, 1)
    (error,) = rows(read(s3, "errors/nulplan.csv"))[1:]
    assert error[0] == "6" and error[1] == "plan" and error[2].startswith("pre\\x00mium")


@pytest.mark.parametrize(
    ("age", "reason"),
    [
        ("1." + "0" * 399, None),  # 401 characters whose value is 1.0: scored
        ("-0." + "9" * 6000, None),  # -1.0
        ("1e999", "number is out of float32 range"),
        ("9" * 5000, "number is out of float32 range"),  # past int()'s 4,300 digits
        ("4e38", "number is out of float32 range"),
        ("1.2.3", "not a number"),
    ],
)
def test_a_number_cell_is_judged_by_its_value_not_its_length(s3, model, age, reason):
    lines = features_csv(20).splitlines()
    column = lines[0].split(",").index("age")
    fields = lines[3].split(",")
    fields[column] = age
    lines[3] = ",".join(fields)
    result = score(s3, model, "incoming/long.csv", ("\n".join(lines) + "\n").encode())
    if reason is None:
        assert (result["rows_scored"], result["rows_rejected"]) == (20, 0)
        return
    assert (result["rows_scored"], result["rows_rejected"]) == (19, 1)
    (error,) = rows(read(s3, "errors/long.csv"))[1:]
    assert error[0] == "4" and error[1] == "age" and error[3] == reason
