"""S3 batch scoring through the real handler, with S3 in moto."""

import csv
import gzip
import io
import json

import numpy as np
import pytest

from lambda_fn import batch
from lambda_fn.batch import csv_reader
from lambda_fn.config import Config
from tests.conftest import make_frame
from tests.lambda_fn.conftest import bucket_for

BUCKET = "scoring"


@pytest.fixture
def s3(app):
    with bucket_for(app, BUCKET) as client:
        yield client


def s3_event(*keys, bucket=BUCKET):
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": {"key": key.replace(" ", "+")}},
            }
            for key in keys
        ]
    }


def features_csv(n, seed=0):
    frame = make_frame(n=n, seed=seed).drop(columns=["y"])
    return frame.to_csv(index=False)


def read(s3, key):
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return gzip.decompress(body).decode() if key.endswith(".gz") else body.decode()


def rows(text):
    return list(csv.reader(io.StringIO(text)))


def test_small_file_is_scored_with_every_input_column_kept(app, s3, model):
    text = features_csv(50)
    s3.put_object(Bucket=BUCKET, Key="incoming/day 1.csv", Body=text.encode())
    result = app.handler(s3_event("incoming/day 1.csv"), None)
    summary = result["files"][0]
    assert summary["status"] == "scored"
    assert (summary["rows_in"], summary["rows_scored"], summary["rows_rejected"]) == (50, 50, 0)
    out = rows(read(s3, "scored/day 1.csv"))
    original = rows(text)
    assert out[0] == original[0] + ["probability", "label"]
    assert [r[:-2] for r in out[1:]] == original[1:]
    assert {r[-1] for r in out[1:]} <= {"yes", "no"}
    stored = json.loads(read(s3, "summaries/day 1.csv.json"))
    assert stored["model_version"] == model.version and stored["rows_in"] == 50
    assert "errors" not in stored["outputs"]


def test_batch_scores_equal_api_scores(app, s3, model):
    text = features_csv(20, seed=5)
    s3.put_object(Bucket=BUCKET, Key="incoming/a.csv", Body=text.encode())
    app.handler(s3_event("incoming/a.csv"), None)
    scored = rows(read(s3, "scored/a.csv"))[1:]
    from lambda_fn.validation import records_to_columns

    frame = make_frame(n=20, seed=5).drop(columns=["y", "customer_id"])
    records = [{k: (None if v != v else v) for k, v in r.items()} for r in frame.to_dict("records")]
    columns, problems = records_to_columns(records, model.schema)
    assert not problems
    p, _ = model.predict(columns)
    assert np.allclose([float(r[-2]) for r in scored], p, atol=1e-6)


def test_malformed_rows_are_rejected_and_reported_by_line(app, s3):
    lines = features_csv(10).splitlines()
    lines[3] = lines[3].replace(lines[3].split(",")[1], "forty", 1)  # age column
    lines[5] = "C9,1,2"  # too few fields
    lines.insert(7, "")  # blank line
    s3.put_object(Bucket=BUCKET, Key="incoming/bad.csv", Body="\n".join(lines).encode())
    summary = app.handler(s3_event("incoming/bad.csv"), None)["files"][0]
    assert summary["rows_in"] == summary["rows_scored"] + summary["rows_rejected"]
    assert summary["rows_rejected"] == 3 and summary["rows_scored"] == 8
    errors = rows(read(s3, "errors/bad.csv"))
    assert errors[0] == ["line", "column", "value", "reason"]
    reasons = {(int(r[0]), r[1]): r[3] for r in errors[1:]}
    assert reasons[(4, "age")] == "not a number"
    assert reasons[(6, "")].startswith("expected 6 fields, got 3")
    assert reasons[(8, "")] == "blank line"


def test_header_without_a_required_column_rejects_the_file(app, s3):
    text = features_csv(5).replace("region", "area")
    s3.put_object(Bucket=BUCKET, Key="incoming/wrong.csv", Body=text.encode())
    summary = app.handler(s3_event("incoming/wrong.csv"), None)["files"][0]
    assert summary["status"] == "rejected" and summary["rows_scored"] == 0
    assert rows(read(s3, "errors/wrong.csv"))[1] == [
        "1",
        "region",
        "",
        "required column missing from the header",
    ]
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="scored/").get("KeyCount", 0)
    assert listed == 0


def test_empty_and_undecodable_files_are_rejected_not_crashed(app, s3):
    s3.put_object(Bucket=BUCKET, Key="incoming/empty.csv", Body=b"")
    s3.put_object(Bucket=BUCKET, Key="incoming/binary.csv.gz", Body=b"not gzip at all")
    result = app.handler(s3_event("incoming/empty.csv", "incoming/binary.csv.gz"), None)
    assert [f["status"] for f in result["files"]] == ["rejected", "rejected"]
    assert "empty" in result["files"][0]["reason"]


def test_gzip_in_gzip_out(app, s3):
    text = features_csv(30)
    s3.put_object(Bucket=BUCKET, Key="incoming/z.csv.gz", Body=gzip.compress(text.encode()))
    summary = app.handler(s3_event("incoming/z.csv.gz"), None)["files"][0]
    assert summary["rows_scored"] == 30
    assert len(rows(read(s3, "scored/z.csv.gz"))) == 31


def test_multi_megabyte_file_streams_in_chunks_and_multipart(app, s3, model):
    text = features_csv(150_000, seed=9)
    assert len(text) > 5_000_000
    s3.put_object(Bucket=BUCKET, Key="incoming/big.csv", Body=text.encode())
    config = Config(chunk_rows=10_000, part_bytes=5 * 1024 * 1024)
    summary = batch.score_object(s3, BUCKET, "incoming/big.csv", model, config)
    assert summary["rows_scored"] == 150_000
    out = read(s3, "scored/big.csv")
    assert out.count("\n") == 150_001
    head = s3.head_object(Bucket=BUCKET, Key="scored/big.csv")
    assert "-" in head["ETag"]  # a multipart upload's ETag is "<md5>-<parts>"


def test_duplicate_delivery_gives_the_same_outputs(app, s3):
    s3.put_object(Bucket=BUCKET, Key="incoming/twice.csv", Body=features_csv(40).encode())
    first = app.handler(s3_event("incoming/twice.csv"), None)["files"][0]
    scored = read(s3, "scored/twice.csv")
    summary = read(s3, "summaries/twice.csv.json")
    second = app.handler(s3_event("incoming/twice.csv"), None)["files"][0]
    assert second["duplicate_delivery"] and second["rows_scored"] == first["rows_scored"]
    assert read(s3, "scored/twice.csv") == scored
    assert read(s3, "summaries/twice.csv.json") == summary


def test_reuploaded_file_is_scored_again(app, s3):
    s3.put_object(Bucket=BUCKET, Key="incoming/r.csv", Body=features_csv(10).encode())
    app.handler(s3_event("incoming/r.csv"), None)
    s3.put_object(Bucket=BUCKET, Key="incoming/r.csv", Body=features_csv(12).encode())
    summary = app.handler(s3_event("incoming/r.csv"), None)["files"][0]
    assert not summary.get("duplicate_delivery") and summary["rows_scored"] == 12


def test_several_records_and_one_failure_loses_nothing(app, s3):
    s3.put_object(Bucket=BUCKET, Key="incoming/1.csv", Body=features_csv(5).encode())
    s3.put_object(Bucket=BUCKET, Key="incoming/3.csv", Body=features_csv(7).encode())
    event = s3_event("incoming/1.csv", "incoming/2-missing.csv", "incoming/3.csv")
    with pytest.raises(batch.BatchFailed, match="incoming/2-missing.csv"):
        app.handler(event, None)
    assert len(rows(read(s3, "scored/1.csv"))) == 6
    assert len(rows(read(s3, "scored/3.csv"))) == 8


def test_objects_outside_the_input_prefix_are_skipped(app, s3):
    s3.put_object(Bucket=BUCKET, Key="scored/x.csv", Body=b"a\n1\n")
    result = app.handler(s3_event("scored/x.csv", "incoming/notes.txt"), None)
    assert [f["status"] for f in result["files"]] == ["skipped", "skipped"]


def test_output_prefixes_cannot_overlap_the_input_prefix():
    from lambda_fn.config import ConfigError

    with pytest.raises(ConfigError, match="would trigger itself"):
        Config.from_env({"INPUT_PREFIX": "data/", "SCORED_PREFIX": "data/scored/"})


def test_quoted_fields_with_commas_and_newlines_pass_through_unchanged(app, s3):
    text = features_csv(6)
    lines = text.splitlines()
    fields = lines[2].split(",")
    fields[0] = '"C-1,\nsecond line"'  # the identifier column: quoted, comma, newline
    lines[2] = ",".join(fields)
    body = "\r\n".join(lines) + "\r\n"
    s3.put_object(Bucket=BUCKET, Key="incoming/q.csv", Body=body.encode())
    summary = app.handler(s3_event("incoming/q.csv"), None)["files"][0]
    assert (summary["rows_in"], summary["rows_scored"]) == (6, 6)
    out = rows(read(s3, "scored/q.csv"))
    assert out[2][0] == "C-1,\nsecond line"
    assert [r[:-2] for r in out[1:]] == rows(body)[1:]


def test_a_line_that_is_not_utf8_is_rejected_alone(app, s3):
    good = features_csv(30).encode()
    body = good + b"C9,\xff\xfe,1,2,basic,north\n" + features_csv(5).split("\n", 1)[1].encode()
    s3.put_object(Bucket=BUCKET, Key="incoming/broken.csv", Body=body)
    summary = app.handler(s3_event("incoming/broken.csv"), None)["files"][0]
    assert summary["status"] == "scored"
    assert (summary["rows_in"], summary["rows_scored"], summary["rows_rejected"]) == (36, 35, 1)
    assert rows(read(s3, "errors/broken.csv"))[1] == ["32", "", "", "not valid UTF-8 text"]


def messy_body() -> bytes:
    """Every kind of row the reader handles, spread so that small chunks split them.

    Physical lines: the quoted field spans lines 7-8, so record i of the CSV
    text below sits on line i + 2 from there on."""
    lines = [line.split(",") for line in features_csv(40, seed=3).splitlines()]
    lines[5][0] = '"C-5,\nwith a newline"'
    lines[9] = ["C9", "1", "2"]  # line 11
    lines[20][2] = "1e39"  # balance beyond float32, line 23 once the blank line is in
    lines[23][1] = "NA"  # a missing age, fine
    lines.insert(14, [""])  # a blank line 16
    text = [",".join(f) for f in lines]
    body = ("\n".join(text[:30]) + "\n").encode()
    body += b"C31,\xff,1,2,basic,north\n"  # line 32
    body += ("\r\n".join(text[30:]) + "\r\n").encode()
    return body


@pytest.mark.parametrize(
    ("chunk_rows", "chunk_bytes"), [(1, None), (3, None), (7, None), (10_000, None), (10_000, 300)]
)
def test_every_chunk_size_gives_the_same_outputs(s3, model, monkeypatch, chunk_rows, chunk_bytes):
    if chunk_bytes is not None:  # wide rows: a chunk stops at its byte budget
        monkeypatch.setattr(csv_reader, "CHUNK_BYTES", chunk_bytes)
    s3.put_object(Bucket=BUCKET, Key="incoming/messy.csv", Body=messy_body())
    config = Config(chunk_rows=chunk_rows)
    summary = batch.score_object(s3, BUCKET, "incoming/messy.csv", model, config)
    assert (summary["rows_in"], summary["rows_scored"], summary["rows_rejected"]) == (42, 38, 4)
    errors = rows(read(s3, "errors/messy.csv"))[1:]
    assert [(r[0], r[1], r[3]) for r in errors] == [
        ("11", "", "expected 6 fields, got 3"),
        ("16", "", "blank line"),
        ("23", "balance", "number is out of float32 range"),
        ("32", "", "not valid UTF-8 text"),
    ]
    scored = read(s3, "scored/messy.csv")
    monkeypatch.undo()
    s3.put_object(Bucket=BUCKET, Key="incoming/whole.csv", Body=messy_body())
    batch.score_object(s3, BUCKET, "incoming/whole.csv", model, Config(chunk_rows=10**6))
    assert scored == read(s3, "scored/whole.csv")
    assert '"C-5,\nwith a newline"' in scored and "\r" not in scored


def test_cells_are_read_as_training_reads_them(s3, model):
    frame = make_frame(n=12, seed=4).drop(columns=["y"])
    text = frame.to_csv(index=False)
    lines = text.splitlines()
    padded = [lines[0]]
    for line in lines[1:]:
        f = line.split(",")
        f[4] = f" {f[4]} " if f[4] else "N/A"  # plan: padded, or another missing token
        f[1] = f[1] or "nan"  # age: missing as text
        padded.append(",".join(f))
    s3.put_object(Bucket=BUCKET, Key="incoming/plain.csv", Body=text.encode())
    s3.put_object(Bucket=BUCKET, Key="incoming/padded.csv", Body="\n".join(padded).encode())
    for key in ("incoming/plain.csv", "incoming/padded.csv"):
        assert batch.score_object(s3, BUCKET, key, model, Config())["rows_scored"] == 12
    plain = [r[-2:] for r in rows(read(s3, "scored/plain.csv"))]
    assert [r[-2:] for r in rows(read(s3, "scored/padded.csv"))] == plain


def test_an_unclosed_quote_rejects_its_record_not_the_file(s3, model):
    text = features_csv(8)
    body = text + 'C99,"40,1,2,basic,north\n'
    s3.put_object(Bucket=BUCKET, Key="incoming/open.csv", Body=body.encode())
    summary = batch.score_object(s3, BUCKET, "incoming/open.csv", model, Config())
    assert (summary["status"], summary["rows_scored"], summary["rows_rejected"]) == ("scored", 8, 1)
    assert rows(read(s3, "errors/open.csv"))[1] == [
        "10",
        "",
        "",
        "a quoted field is not closed by the end of the file",
    ]


def test_a_carriage_return_inside_a_row_rejects_that_row(s3, model):
    lines = features_csv(6).splitlines()
    fields = lines[2].split(",")
    fields[0] = f'"{fields[0]}"'
    lines[2] = ",".join(fields) + "\rC9,1,2"  # a quoted field, then a bare CR in the line
    s3.put_object(Bucket=BUCKET, Key="incoming/cr.csv", Body="\n".join(lines).encode())
    summary = batch.score_object(s3, BUCKET, "incoming/cr.csv", model, Config())
    assert (summary["rows_scored"], summary["rows_rejected"]) == (5, 1)
    assert rows(read(s3, "errors/cr.csv"))[1] == [
        "3",
        "",
        "",
        "not readable as CSV: a carriage return inside an unquoted field",
    ]


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["", "BOM"])
def test_every_line_end_and_a_bom_give_the_same_scores(s3, model, end, bom):
    lines = features_csv(12, seed=2).splitlines()
    fields = lines[4].split(",")
    fields[0] = f'"C-4,{end}two lines"'  # a quoted line break in the file's own style
    lines[4] = ",".join(fields)
    s3.put_object(Bucket=BUCKET, Key="incoming/ends.csv", Body=bom + end.join(lines).encode())
    summary = batch.score_object(s3, BUCKET, "incoming/ends.csv", model, Config())
    assert (summary["status"], summary["rows_in"], summary["rows_scored"]) == ("scored", 12, 12)
    out = rows(read(s3, "scored/ends.csv"))
    assert out[0][0] == "customer_id" and out[4][0].startswith("C-4,")
    s3.put_object(Bucket=BUCKET, Key="incoming/lf.csv", Body="\n".join(lines).encode())
    batch.score_object(s3, BUCKET, "incoming/lf.csv", model, Config())
    assert [r[-2:] for r in out] == [r[-2:] for r in rows(read(s3, "scored/lf.csv"))]


def test_a_bare_carriage_return_in_an_unquoted_field_rejects_that_row_alone(s3, model):
    lines = features_csv(6).splitlines()
    fields = lines[3].split(",")
    fields[0] = "C\r3"  # unquoted: a spreadsheet or csv reader would end the row here
    lines[3] = ",".join(fields)
    s3.put_object(Bucket=BUCKET, Key="incoming/cr2.csv", Body="\n".join(lines).encode())
    summary = batch.score_object(s3, BUCKET, "incoming/cr2.csv", model, Config())
    assert (summary["rows_in"], summary["rows_scored"], summary["rows_rejected"]) == (6, 5, 1)
    scored = read(s3, "scored/cr2.csv")
    assert "\r" not in scored and len(rows(scored)) == 6
    assert rows(read(s3, "errors/cr2.csv"))[1] == [
        "4",
        "",
        "",
        "not readable as CSV: a carriage return inside an unquoted field",
    ]


def test_an_overlong_line_is_rejected_without_being_read_whole(s3, model, monkeypatch):
    monkeypatch.setattr(csv_reader, "MAX_LINE_BYTES", 64)
    lines = features_csv(6).splitlines()
    lines.insert(3, "C7," + "9" * 200 + ",1,2,basic,north")  # line 4: over 64 bytes
    fields = lines[5].split(",")
    fields[0] = '"C9\n' + "x" * 100 + '"'  # line 6: a quoted field runs into an overlong line
    lines[5] = ",".join(fields)
    s3.put_object(Bucket=BUCKET, Key="incoming/long.csv", Body="\n".join(lines).encode())
    summary = batch.score_object(s3, BUCKET, "incoming/long.csv", model, Config())
    assert (summary["rows_in"], summary["rows_scored"], summary["rows_rejected"]) == (7, 5, 2)
    errors = rows(read(s3, "errors/long.csv"))[1:]
    assert errors == [
        ["4", "", "", "longer than 64 bytes"],
        ["6", "", "", "a quoted field runs into a line that is longer than 64 bytes"],
    ]


def test_an_overlong_header_rejects_the_file(s3, model, monkeypatch):
    monkeypatch.setattr(csv_reader, "MAX_LINE_BYTES", 16)
    s3.put_object(Bucket=BUCKET, Key="incoming/wide.csv", Body=features_csv(3).encode())
    summary = batch.score_object(s3, BUCKET, "incoming/wide.csv", model, Config())
    assert summary["status"] == "rejected"
    assert summary["reason"] == "unreadable file: the header line is longer than 16 bytes"
