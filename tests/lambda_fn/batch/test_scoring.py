"""Scoring records from plain byte streams into plain writers, no S3."""

import io
from itertools import pairwise

from lambda_fn.batch.csv_reader import Records
from lambda_fn.batch.scoring import Outputs, feature_columns, header_problems, score_chunks
from tests.lambda_fn.test_batch import messy_body


def score_stream(data: bytes, line_num: int, header: list[str], model, chunk_rows: int = 7):
    columns = feature_columns(header, model)
    out = Outputs(io.BytesIO(), io.BytesIO())
    records = Records(io.BytesIO(data), line_num=line_num)
    score_chunks(records.chunks(chunk_rows, columns.width), columns, model, out)
    return out.scored.getvalue(), out.errors.writer.getvalue(), out.tally.counts()


def test_a_file_scored_in_byte_ranges_matches_the_file_scored_whole(model):
    body = messy_body()
    records = Records(io.BytesIO(body))
    _, header = records.header()
    assert header_problems(header, model) == []
    whole = score_stream(body[body.index(b"\n") + 1 :], 1, header, model)
    assert whole[2] == {"rows_in": 42, "rows_scored": 38, "rows_rejected": 4}

    # Record boundaries: line starts, except line 7 (the second line of a quoted field).
    starts = [0]
    for line in body.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    cuts = [1, 5, 12, 22, 31, 33, len(starts) - 1]  # lines before each range
    parts = [
        score_stream(body[starts[a] : starts[b]], a, header, model, chunk_rows=3)
        for a, b in pairwise(cuts)
    ]
    assert b"".join(p[0] for p in parts) == whole[0]
    assert b"".join(p[1] for p in parts) == whole[1]
    assert {k: sum(p[2][k] for p in parts) for k in whole[2]} == whole[2]
    assert b"23,balance,1e39,number is out of float32 range" in whole[1]
