"""pyarrow's reader (train/table.py) reads every cell as pandas' reader did.

Each file is loaded twice, through pyarrow and through the pandas fallback
(parse_csv), and the datasets must be identical: kinds, values, dtypes,
categories, labels, notes and hash. Files pyarrow would read otherwise must
take the fallback.
"""

import gzip

import numpy as np
import pandas as pd
import pytest

import train.table as table
from train.data import UsageError, load_dataset


def _rows(n=40):
    """Cells of every sort that the reader must read the same way."""
    rows = ["id ,amount, spaced ,flag,when,price,code,neg,odd,slow,y"]
    for i in range(n):
        amount = ["1.5", " 2", "3 ", "NA", " NA", "NA ", "-", "?", "", '"4"', "1e3", "+7"][i % 12]
        spaced = ["  a b ", "a b", '"c,d"', "e", "n/a", " none"][i % 6]
        flag = ["yes", "no", "Yes", "no "][i % 4] if i % 4 != 3 else "no"
        when = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"
        price = ['"$1,200.50"', "$3.00", "$12.25"][i % 3]
        neg = ["-0", "1", "2.5"][i % 3]
        odd = ["nan", "NAN", "inf", "x", "5"][i % 5]
        slow = [" 2", "3", "NA", " NA", "", "  4.5"][i % 6]
        rows.append(
            f"{i},{amount},{spaced},{flag},{when},{price},{i % 3},{neg},{odd},{slow},"
            f"{'yes' if i % 4 == 0 else 'no'}"
        )
    return rows


def both(path, target="y", **kwargs):
    """The dataset through pyarrow and through pandas; they must be equal."""
    via_arrow = load_dataset(str(path), target, **kwargs)
    original = table.read_arrow
    table.read_arrow = lambda *a, **k: None
    try:
        via_pandas = load_dataset(str(path), target, **kwargs)
    finally:
        table.read_arrow = original
    pd.testing.assert_frame_equal(via_arrow.X, via_pandas.X)
    assert via_arrow.schema == via_pandas.schema
    assert np.array_equal(via_arrow.y, via_pandas.y)
    assert (via_arrow.notes, via_arrow.sha256) == (via_pandas.notes, via_pandas.sha256)
    return via_arrow


@pytest.fixture
def arrow_reads(monkeypatch):
    """Counts the files pyarrow read (not None)."""
    seen = []
    original = table.read_arrow

    def spy(*args, **kwargs):
        result = original(*args, **kwargs)
        seen.append(result is not None)
        return result

    monkeypatch.setattr(table, "read_arrow", spy)
    return seen


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_tricky_cells_read_as_pandas_read_them(tmp_path, arrow_reads, ending):
    path = tmp_path / "t.csv"
    path.write_bytes(("\ufeff" + ending.join(_rows()) + ending).encode())
    ds = both(path, categorical=("code",))
    kinds = {f.name: f.kind for f in ds.schema.features}
    # pandas skipped leading spaces only before matching missing tokens: "NA " is a value.
    assert kinds["amount"] == "categorical" and "NA" in set(ds.X["amount"])
    assert kinds["neg"] == "numeric" and ds.X["neg"].dtype == np.float32
    assert kinds["slow"] == "numeric" and ds.X["slow"].isna().sum() == 20
    assert arrow_reads == [True]
    assert kinds["when"] == "date" and kinds["price"] == "number_text"
    assert ds.X["spaced"].dtype == object and "c,d" in set(ds.X["spaced"])
    assert "id" in ds.schema.dropped or "id" in ds.schema.names


def test_plain_numbers_take_the_fast_path_with_pandas_values(tmp_path, arrow_reads):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "x": rng.standard_normal(300) * 10.0 ** rng.integers(-20, 20, 300),
            "k": rng.integers(-5, 5, 300),
            "c": rng.choice(["a", "b", "c"], 300),
            "y": rng.choice(["yes", "no"], 300),
        }
    )
    path = tmp_path / "p.csv"
    frame.to_csv(path, index=False)
    ds = both(path)
    assert arrow_reads[0] is True
    assert ds.X["c"].dtype == object and ds.X["x"].dtype == np.float32


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_other_delimiters_and_gzip(tmp_path, arrow_reads, delimiter):
    rows = [r.replace("$1,200", "$1200") for r in _rows() if '"' not in r]
    text = "\n".join(r.replace(",", delimiter) for r in rows) + "\n"
    path = tmp_path / "d.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    both(path)
    assert arrow_reads[0] is True


def test_a_quote_after_spaces_is_read_by_pandas(tmp_path, arrow_reads):
    rows = ["a,b,y"] + [f'{i}, "x, {i % 3}",{"yes" if i % 3 else "no"}' for i in range(30)]
    path = tmp_path / "q.csv"
    path.write_text("\n".join(rows) + "\n")
    ds = both(path)
    assert arrow_reads == []  # the scan sent it to pandas before pyarrow
    assert set(ds.X["b"]) == {"x, 0", "x, 1", "x, 2"}


def test_short_rows_unnamed_and_repeated_columns_are_read_by_pandas(tmp_path, arrow_reads):
    short = tmp_path / "short.csv"
    short.write_text(
        "a,b,y\n" + "".join(f"{i},{i % 2},{'yes' if i % 3 else 'no'}\n" for i in range(30)) + "5\n"
    )
    with pytest.raises(UsageError, match="1 missing value"):
        both(short)  # pandas fills the short row; its missing label is named
    repeated = tmp_path / "rep.csv"
    repeated.write_text(
        "a,a,,y\n" + "".join(f"{i},{i % 2},{i % 3},{'yes' if i % 3 else 'no'}\n" for i in range(30))
    )
    ds = both(repeated)
    assert {"a", "a.1", "Unnamed: 2"} <= set(ds.schema.names) | set(ds.schema.dropped)
    assert arrow_reads == [False, False]


def test_bad_utf8_keeps_pandas_one_line_error(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"a,y\n" + b"caf\xe9,no\n" * 20 + b"x,yes\n")
    with pytest.raises(UsageError, match="latin1.csv is not a readable CSV"):
        load_dataset(str(path), "y")


def test_a_file_read_in_many_blocks_is_read_the_same(tmp_path, monkeypatch, arrow_reads):
    monkeypatch.setattr(table, "BLOCK_BYTES", 4096)  # some hundred rows a block
    rng = np.random.default_rng(1)
    n = 3000
    frame = pd.DataFrame(
        {
            "amount": np.round(rng.normal(50, 20, n), 2).astype(str),
            "plan": rng.choice(["basic", " pro", "NA", "max ", "?"], n),
            "late": rng.choice(["", "1", "2", " 3"], n),
            "y": rng.choice(["yes", "no", "no", "no"], n),
        }
    )
    frame.loc[n - 5 :, "plan"] = "new in the last block"
    path = tmp_path / "blocks.csv"
    frame.to_csv(path, index=False)
    ds = both(path)
    assert arrow_reads == [True]
    assert "new in the last block" in set(ds.X["plan"]) and ds.X["late"].dtype == np.float32
