"""The scored/ and errors/ outputs, byte for byte, on a fixed model and file.

The digests were recorded from the code as it was before the batch path was
made faster (#28); a faster reader, parser or writer must give the same bytes.
The model is the session's (trained on fixed data with a fixed seed); the
file is generated here from a fixed seed and holds every kind of cell the
reader and the number parser tell apart."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from lambda_fn import batch
from lambda_fn.batch import inference
from lambda_fn.batch.scoring import scored_rows
from lambda_fn.config import Config
from tests.lambda_fn.batch.conftest import BUCKET

# Numbers as people and spreadsheets write them: every one is read the same
# way by numpy's fast path and by cell_number, or rejected with its reason.
AGES = ["41", "41.0", " 41 ", "4.1e1", "+41", "-0", "0041", "41.", ".5", "1e-50", "1_000"]
MISSING = ["", "NA", "N/A", "nan", "NaN", "?", "-", "null", "None", "#N/A", " NA "]
NOT_NUMBERS = ["abc", "0x10", "1,5", "=1+2", "@SUM(A1)", "1e39", "-3.5e38", "inf", "--1", "1 2"]
PLANS = ["basic", "plus", "premium", " basic", "premium ", "gold", "N/A", "", "-", "Basic"]
REGIONS = ["north", "south", "east", "west", "  east  ", "?", "Nord", "west\t"]


def fixed_file(rows: int = 3000, seed: int = 28) -> bytes:
    """A header and `rows` records, then the lines the slow paths read."""
    rng = np.random.default_rng(seed)
    lines = ["customer_id,age,balance,calls,plan,region"]
    for i in range(rows):
        age = str(int(rng.integers(18, 90)))
        if rng.random() < 0.2:
            age = AGES[int(rng.integers(len(AGES)))]
        if rng.random() < 0.05:
            age = MISSING[int(rng.integers(len(MISSING)))]
        balance = f"{rng.normal(1500, 3000):.{int(rng.integers(0, 9))}f}"
        if rng.random() < 0.03:
            balance = f"{rng.normal(0, 1e6):.9g}"
        calls = str(int(rng.poisson(2)))
        if rng.random() < 0.01:
            calls = NOT_NUMBERS[int(rng.integers(len(NOT_NUMBERS)))]
        plan = PLANS[int(rng.integers(len(PLANS)))]
        region = REGIONS[int(rng.integers(len(REGIONS)))]
        lines.append(f"C{i:05d},{age},{balance},{calls},{plan},{region}")
    body = "\n".join(lines) + "\n"
    body += 'C-q,50,"1,5",2,basic,north\n'  # a quoted field: the line-by-line reader
    body += '"C-n\nnewline",51,10.5,1,"plus",south\n'
    body += "C-short,1,2\n\n"
    crlf = "\r\n".join(f"C-crlf{i},{30 + i},{i * 7.25},{i},premium,east" for i in range(40))
    return body.encode() + b"C-bad,\xff,1,2,basic,north\n" + (crlf + "\r\n").encode()


# sha256 of scored/ and errors/ for fixed_file() and the session model.
SCORED_SHA256 = "e51d6e19c3af1b43931a7c3a752f4f30f61df12a69540bafe06964c8be358f33"
ERRORS_SHA256 = "a43d140d80c316c8d1a06708e25e513a5505fe86fdd23e079f4531b5f8a76e85"


@pytest.mark.parametrize(
    ("chunk_rows", "batch_rows"), [(7, None), (1000, None), (100_000, None), (100_000, 37)]
)
def test_outputs_are_the_recorded_bytes(s3, model, monkeypatch, chunk_rows, batch_rows):
    if batch_rows is not None:  # chunks cut into many onnxruntime batches
        monkeypatch.setattr(inference, "BATCH_ROWS", batch_rows)
    s3.put_object(Bucket=BUCKET, Key="incoming/fixed.csv", Body=fixed_file())
    summary = batch.score_object(
        s3, BUCKET, "incoming/fixed.csv", model, Config(chunk_rows=chunk_rows)
    )
    assert summary["status"] == "scored"
    scored = s3.get_object(Bucket=BUCKET, Key="scored/fixed.csv")["Body"].read()
    errors = s3.get_object(Bucket=BUCKET, Key="errors/fixed.csv")["Body"].read()
    assert (summary["rows_in"], summary["rows_rejected"]) == (3045, 31)
    assert hashlib.sha256(scored).hexdigest() == SCORED_SHA256
    assert hashlib.sha256(errors).hexdigest() == ERRORS_SHA256


@pytest.mark.parametrize("tails", [None, [",a,1\n", ",b,2\n", ",c,3\n", ",,\n"]])
def test_scored_rows_are_the_rows_formatted_one_by_one(tails):
    """The interleaved writer against the plain per-row f-string it replaced."""
    raws = ["x,1", "y,2", "=z,3", "w,4"]
    probability = np.array([0.123456789, 1e-9, 1.0, 0.5], dtype=np.float32)
    label = np.array([0, 0, 1, 1])
    labels = ("no", 'yes, "really"')
    names = ["no", '"yes, ""really"""']
    ends = tails or ["\n"] * len(raws)
    expected = "".join(
        f"{r},{p:.7g},{names[k]}{e}"
        for r, p, k, e in zip(raws, probability.tolist(), label.tolist(), ends, strict=True)
    )
    assert scored_rows(raws, probability, label, labels, tails) == expected.encode()
