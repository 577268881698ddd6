"""Cutting a file into byte ranges that start on record boundaries (plan.cut)."""

import io
from itertools import pairwise

import pytest

from lambda_fn.batch.chunked import plan
from lambda_fn.batch.csv_reader import MAX_LINE_BYTES, Records
from tests.lambda_fn.batch.test_scoring import score_stream
from tests.lambda_fn.test_batch import messy_body


def tricky_body() -> bytes:
    """messy_body with a BOM, and records that fool a cut made by counting
    newlines or quotes: a quote inside an unquoted field, an escaped quote
    before a newline, a quoted field running into a non-UTF-8 line (the
    reader ends the record there), and a very long line holding a quote."""
    body = b"\xef\xbb\xbf" + messy_body()
    body += b'C50,"4""\n2",1,2,basic,north\n'  # one record on two lines
    body += b'C51,5,1,2,ba"sic,north\n'  # a quote in an unquoted field is data
    body += b'C52,"5,1,2,basic,north\n\xff\xfe\nC53,5,1,2,basic,north\n'
    body += b'C54,"' + b"x" * (MAX_LINE_BYTES + 10) + b"\nC55,5,1,2,basic,north\r\n"
    return body + b'C56,"never closed\nC57,1,2,3,basic,north\n'


def starts_of_records(body: bytes) -> list[int]:
    """Where the reader's records start, read one at a time."""
    stream = io.BytesIO(body)
    records = Records(stream)
    records.header()
    starts = [stream.tell()]
    while records.take(1, 1) is not None:
        starts.append(stream.tell())
    return starts


@pytest.mark.parametrize("range_bytes", [1, 7, 100, 1000, 10**9])
def test_every_range_starts_where_the_reader_starts_a_record(range_bytes):
    body = tricky_body()
    result = plan.cut(io.BytesIO(body), range_bytes)
    starts = [r.start for r in result.ranges]
    assert set(starts) <= set(starts_of_records(body))
    assert [r.end for r in result.ranges[:-1]] == starts[1:]
    assert result.ranges[-1].end == len(body)
    # The line before each range is the number of physical lines before it.
    assert [r.line for r in result.ranges] == [body[:s].count(b"\n") for s in starts]
    if range_bytes == 1:  # every record its own range
        assert starts == starts_of_records(body)[:-1]
    if range_bytes == 10**9:
        assert len(result.ranges) == 1


@pytest.mark.parametrize("block_bytes", [3, 64, 1 << 20])
def test_the_cut_does_not_depend_on_how_the_stream_is_read(monkeypatch, block_bytes):
    body = tricky_body()
    expected = plan.cut(io.BytesIO(body), 50)
    monkeypatch.setattr(plan, "BLOCK_BYTES", block_bytes)
    assert plan.cut(io.BytesIO(body), 50) == expected


def test_ranges_scored_one_by_one_give_the_file_scored_whole(model):
    body = messy_body().replace(b"\n", b"\r\n", 3)  # CRLF on some lines, LF on the rest
    result = plan.cut(io.BytesIO(body), 60)
    assert result.header == Records(io.BytesIO(body)).header()[1]
    first = result.ranges[0].start
    whole = score_stream(body[first:], result.ranges[0].line, result.header, model)
    parts = [
        score_stream(body[r.start : r.end], r.line, result.header, model, chunk_rows=2)
        for r in result.ranges
    ]
    assert len(parts) >= 20
    assert b"".join(p[0] for p in parts) == whole[0]
    assert b"".join(p[1] for p in parts) == whole[1]
    assert {k: sum(p[2][k] for p in parts) for k in whole[2]} == whole[2]


def test_a_header_only_file_is_one_empty_range():
    result = plan.cut(io.BytesIO(b"age,balance\n"), 10)
    assert result.ranges == [plan.Range(0, 12, 12, 1)]
    assert result.header_raw == "age,balance"


def test_a_header_over_several_lines_is_counted_in_the_line_numbers():
    body = b'"a\nb",c\n1,2\n3,4\n'
    result = plan.cut(io.BytesIO(body), 1)
    assert result.header == ["a\nb", "c"]
    assert [(r.start, r.line) for r in result.ranges] == [(8, 2), (12, 3)]


def test_a_read_error_fails_the_plan_instead_of_ending_it_early():
    class Broken(io.BytesIO):
        def read(self, n=-1):
            if self.tell() > 100:
                raise OSError("connection reset")
            return super().read(min(n, 50))

    with pytest.raises(plan.ScanFailed, match="connection reset"):
        plan.cut(Broken(tricky_body()), 10)


def test_cut_points_are_consistent_across_range_sizes():
    body = tricky_body()
    for a, b in pairwise([3, 30, 300]):
        assert {r.start for r in plan.cut(io.BytesIO(body), b).ranges} <= set(
            starts_of_records(body)
        )
        assert len(plan.cut(io.BytesIO(body), a).ranges) >= len(
            plan.cut(io.BytesIO(body), b).ranges
        )
