"""Scoring records from plain byte streams into plain writers, no S3."""

import io
from itertools import pairwise

import numpy as np

from contract.kinds import BOOLEAN, parse_text, parsed_cells
from contract.schema import Feature
from lambda_fn.batch.csv_reader import Records
from lambda_fn.batch.scoring import (
    Outputs,
    feature_columns,
    header_problems,
    numbers,
    score_chunks,
    scored_rows,
)
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


def test_probabilities_are_formatted_as_the_per_row_format_would():
    """scored_rows' one %-format against f"{p:.7g}" on float32 edge values:
    subnormals, the values around 1 and 0.5, the 7th digit's rounding, nan and inf."""
    edge = [0.0, -0.0, 1.0, 0.5, 1e-45, 1.1754944e-38, 0.99999994, 0.1, 1 / 3, 0.12345675]
    bits = np.random.default_rng(7).integers(0, 2**31, size=2000, dtype=np.int64)
    randoms = bits.astype(np.uint32).view(np.float32).tolist()
    probability = np.array(edge + randoms + [np.nan, np.inf], dtype=np.float32)
    raws = [f"r{i}" for i in range(len(probability))]
    label = (np.arange(len(raws)) % 2).astype(np.int64)
    expected = "".join(
        f"{r},{p:.7g},{('no', 'yes')[k]}\n"
        for r, p, k in zip(raws, probability.tolist(), label.tolist(), strict=True)
    )
    assert scored_rows(raws, probability, label, ("no", "yes")) == expected.encode()


def test_a_parsed_column_is_read_per_distinct_cell_as_cell_by_cell():
    flag = Feature("autopay", BOOLEAN, format="yes/no")
    cells = ["yes", "no", " YES", "", "n", "NA", "yes"] * 50
    values, problems = parsed_cells(flag, cells)
    expected = np.array([parse_text(BOOLEAN, "yes/no", c) for c in cells], np.float32)
    assert problems == [] and values.dtype == np.float32
    np.testing.assert_array_equal(values, expected)
    values, problems = parsed_cells(flag, [*cells, "maybe"])
    assert [(i, c) for i, c, _ in problems] == [(len(cells), "maybe")]
    np.testing.assert_array_equal(values[:-1], expected)
    assert np.isnan(values[-1])


def test_a_number_past_float32s_bound_is_rejected_whatever_shares_its_chunk(model):
    """3.40001e38 fits a float32 but not cell_number's bound (FLOAT32_MAX):
    numpy's fast path must not take it where a neighbour's bad cell would
    have sent the column cell by cell, or the chunk size would decide."""
    values, problems = numbers(["1", "3.40001e38"])
    assert problems == [(1, "3.40001e38")] and values[0] == 1 and np.isnan(values[1])
    assert numbers(["x", "3.40001e38"])[1] == [(0, "x"), (1, "3.40001e38")]
    body = messy_body()
    _, header = Records(io.BytesIO(body)).header()
    lines = body.split(b"\n")
    age = header.index("age")
    edge = lines[2].split(b",")
    edge[age] = b"3.40001e38"
    lines.insert(2, b",".join(edge))
    rows = b"\n".join(lines[1:])
    outputs = [score_stream(rows, 1, header, model, chunk_rows=n) for n in (1, 3, 1000)]
    assert outputs[0] == outputs[1] == outputs[2]
    assert b"3,age,3.40001e38,number is out of float32 range" in outputs[0][1]
