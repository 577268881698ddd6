"""Files users mistake for CSVs: another separator is detected (or named with
the option that sets it), and a workbook or other binary file is "not a CSV"."""

import gzip
import io
import zipfile

import pytest

from tests.conftest import make_frame
from train.cli import main
from train.data import UsageError, load_dataset


def xlsx_bytes() -> bytes:
    """What an .xlsx workbook is on disk: a ZIP archive of XML parts."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


@pytest.fixture
def frame():
    return make_frame(n=200, seed=1)


@pytest.mark.parametrize("sep, name", [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_other_separators_are_detected_and_said(tmp_path, frame, sep, name):
    path = tmp_path / "d.csv"
    frame.to_csv(path, sep=sep, index=False)
    ds = load_dataset(str(path), "y")
    assert ds.schema.names == ["age", "balance", "calls", "plan", "region"]
    assert any(f"{name}-separated" in note and "--delimiter" in note for note in ds.notes)
    same = load_dataset(str(path), "y", delimiter=sep)
    assert same.schema == ds.schema and not any("separated" in n for n in same.notes)


def test_gzipped_semicolon_file_is_detected(tmp_path, frame):
    path = tmp_path / "d.csv.gz"
    path.write_bytes(gzip.compress(frame.to_csv(sep=";", index=False).encode()))
    assert load_dataset(str(path), "y").schema.names[0] == "age"


def test_semicolons_inside_a_comma_file_do_not_fool_the_detection(tmp_path, frame):
    frame["plan"] = frame["plan"].fillna("x") + ";tier;a"
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    ds = load_dataset(str(path), "y")
    assert "plan" in ds.schema.names and not any("separated" in n for n in ds.notes)


def test_a_wrong_delimiter_names_the_option(tmp_path, frame):
    path = tmp_path / "d.csv"
    frame.to_csv(path, sep=";", index=False)
    with pytest.raises(UsageError, match=r"one column only.*--delimiter"):
        load_dataset(str(path), "y", delimiter=",")


@pytest.mark.parametrize(
    "content, what",
    [
        (xlsx_bytes(), "Excel .xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "Excel .xls"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF"),
        (b"age,plan,y\n1,\x00\x01\x02,no\n", "binary"),
        ("age,plan,y\n1,a,no\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_binary_files_are_not_a_csv(tmp_path, content, what):
    path = tmp_path / "customers.xlsx"
    path.write_bytes(content)
    with pytest.raises(UsageError, match="not a CSV") as error:
        load_dataset(str(path), "y")
    assert what in str(error.value) and str(path) in str(error.value)


def test_cli_reports_a_workbook_in_one_line(tmp_path, capsys):
    path = tmp_path / "customers.xlsx"
    path.write_bytes(xlsx_bytes())
    assert main(["--data", str(path), "--target", "y", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not a CSV" in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_cli_delimiter_option(tmp_path, capsys):
    assert main(["--data", "x.csv", "--target", "y", "--delimiter", "ab"]) == 2
    assert "--delimiter" in capsys.readouterr().err
