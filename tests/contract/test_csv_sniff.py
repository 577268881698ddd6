"""What the first bytes of a file say about it, before any row is read."""

import bz2
import gzip
import io
import lzma
import sqlite3
import zlib

import numpy as np
import pytest

from contract import csv_sniff
from tests.train.test_data_formats import xlsx_bytes


def test_header_problem_only_speaks_when_commas_miss_the_columns():
    names = ["age", "plan"]
    assert csv_sniff.header_problem(b"age;plan\n1;a\n", names).startswith("the file is semicolon")
    assert csv_sniff.header_problem(b"age,plan\n1,a\n", names) is None
    assert csv_sniff.header_problem(b"age,plan;x\n1,a;b\n", names) is None
    assert csv_sniff.header_problem(b"", names) is None


def _image(fmt: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def _sqlite(tmp_path) -> bytes:
    path = tmp_path / "table.db"
    with sqlite3.connect(path) as db:
        db.execute("create table t (age int, plan text)")
        db.execute("insert into t values (1, 'a')")
    return path.read_bytes()


CSV = b"age,plan\n" + b"41,premium\n" * 200


def _random_csv() -> bytes:
    draw = np.random.default_rng(4)
    ages, balances = draw.integers(18, 90, 20_000), draw.random(20_000)
    rows = (f"{a},{b:.6f}\n" for a, b in zip(ages, balances, strict=True))
    return ("age,balance\n" + "".join(rows)).encode()


# What a Parquet file starts with: its magic, then the thrift page header of
# the first column chunk (field 1, an i32, written 0x15 in the compact protocol).
PARQUET_START = b"PAR1\x15\x04\x15\x10\x15\x14L\x15\x02\x15\x00\x12\x00\x00"


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (lambda _: xlsx_bytes(), "Excel .xlsx"),
        (lambda _: gzip.compress(CSV), "gzip-compressed (name it .csv.gz)"),
        (lambda _: bz2.compress(CSV), "bzip2"),
        (lambda _: lzma.compress(CSV), "xz"),
        (lambda _: PARQUET_START + bytes(range(256)), "Parquet"),
        (lambda _: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF"),
        (lambda _: _image("PNG"), "PNG image"),
        (lambda _: _image("JPEG"), "JPEG image"),
        (lambda _: _image("GIF"), "GIF image"),
        (lambda _: _image("TIFF"), "TIFF image"),
        (lambda _: _image("WEBP"), "RIFF media"),
        (_sqlite, "SQLite"),
        (lambda _: "age,plan\n41,premium\n".encode("utf-16"), "UTF-16"),
        (lambda _: "age,plan\n41,premium\n".encode("utf-16-le"), "UTF-16"),  # no BOM
        (lambda _: zlib.compress(_random_csv()), "binary"),  # no known signature
        (lambda _: np.random.default_rng(1).bytes(65536), "binary"),
        (lambda _: np.random.default_rng(2).bytes(120), "binary"),
    ],
)
def test_a_file_is_named_by_what_it_is(tmp_path, make, what):
    reason = csv_sniff.not_csv(make(tmp_path)[: csv_sniff.HEAD_BYTES])
    assert reason is not None and reason.startswith("not a CSV: the file is")
    assert what in reason


@pytest.mark.parametrize(
    "head",
    [
        CSV,
        b"age,job\n41,nul\x00byte\n",  # one stray NUL in a tiny file
        b"age,job\n41,nul\x00\x00\n",  # two
        b"age,job\n" + b"41,admin\n" * 30 + b"42,nul\x00byte\n" + b"43,admin\n" * 30,
        b"age,job\n" + b"41,a\x00\x00b\x01\n" * 3 + b"41,admin\n" * 100,  # a few bad rows
        b"PAR1,PAR2\n1,2\n",  # text that starts like a magic number
        b"BZh,GIF87,PK\n1,2,3\n",
        b"BMI,age\n22.5,41\n",
        "âge,région\n41,île\n".encode(),
        b"age\tplan\x0c\n41\tpremium\n",  # a form feed (page break) in a text export
    ],
)
def test_text_with_a_stray_control_byte_is_not_called_binary(head):
    assert csv_sniff.not_csv(head) is None


def test_the_binary_share_sits_far_from_both_kinds_of_file():
    one_bad_row = b"age,job\n" + b"41,admin\n" * 30 + b"42,nul\x00byte\n" + b"43,admin\n" * 8000
    head = one_bad_row[: csv_sniff.HEAD_BYTES]
    assert csv_sniff.control_share(head) * 1000 < csv_sniff.BINARY_SHARE
    compressed = zlib.compress(np.random.default_rng(3).bytes(1 << 16))[: csv_sniff.HEAD_BYTES]
    assert csv_sniff.control_share(compressed) > 2 * csv_sniff.BINARY_SHARE


def test_a_training_csv_with_one_stray_nul_is_read_not_called_binary():
    from train.data import parse_csv

    raw = b"age,job,y\n" + b"41,admin,no\n" * 30 + b"42,nul\x00byte,yes\n" + b"43,admin,no\n" * 30
    frame = parse_csv(raw, "bank.csv")
    assert len(frame) == 61 and frame["job"].iloc[30] == "nul\x00byte"
