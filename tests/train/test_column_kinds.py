"""What a text column is taken to be, and the one-line refusals when it cannot be told."""

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_train_cli
from train.data import UsageError, load_dataset

N = 40


def _csv(tmp_path, **columns) -> str:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({**columns, "y": np.where(rng.random(N) < 0.3, "yes", "no")})
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    return str(path)


def _days(n):
    return pd.date_range("2023-01-10", periods=n, freq="3D")


def test_kinds_and_formats_are_recorded(tmp_path):
    source = _csv(
        tmp_path,
        iso=_days(N).strftime("%Y-%m-%d"),
        dmy=_days(N).strftime("%d/%m/%Y"),
        mdy=_days(N).strftime("%m/%d/%Y"),
        stamp=_days(N).strftime("%Y-%m-%dT%H:%M:%SZ"),
        month=_days(N).strftime("%b-%Y"),
        money=[f"${k * 1000.5:,.2f}" for k in range(N)],
        term=[f"{k % 3 * 12 + 12} months" for k in range(N)],
        flag=["Yes" if k % 2 else "No" for k in range(N)],
        note=[f"the customer called about billing issue number {k} today" for k in range(N)],
        plain=[str(k % 4) for k in range(N)],
        code=[f"c{k % 5}" for k in range(N)],
    )
    data = load_dataset(source, "y")
    got = {f.name: (f.kind, f.format) for f in data.schema.features}
    assert got == {
        "iso": ("date", "%Y-%m-%d"),
        "dmy": ("date", "%d/%m/%Y"),
        "mdy": ("date", "%m/%d/%Y"),
        "stamp": ("date", "iso8601"),
        "month": ("date", "%b-%Y"),
        "money": ("number_text", "$#,##0.00"),
        "term": ("number_text", "# months"),
        "flag": ("boolean", "Yes/No"),
        "plain": ("numeric", ""),
        "code": ("categorical", ""),
    }
    assert "free text" in data.schema.dropped["note"]
    assert data.X["dmy"].tolist() == data.X["iso"].tolist() == data.X["mdy"].tolist()
    assert data.X["money"].iloc[3] == np.float32(3001.5)
    kept = load_dataset(source, "y", keep=("note",))
    assert "note" in kept.schema.categorical


def test_date_flag_reads_a_format_the_values_cannot_tell(tmp_path):
    source = _csv(tmp_path, d=_days(N).strftime("%m/%d/%Y").str.slice(0, 3) + "0" * 0 + "01/2023")
    with pytest.raises(UsageError, match=r"cannot be told apart.*--date d=%d/%m/%Y"):
        load_dataset(source, "y")
    data = load_dataset(source, "y", dates={"d": "%m/%d/%Y"})
    assert data.schema.features[0].format == "%m/%d/%Y"


@pytest.mark.parametrize(
    ("values", "dates", "message"),
    [
        (["2023-01-05", "05/01/2023"] * (N // 2), {}, "mixes date formats"),
        (["13/01/2023", "01/13/2023"] * (N // 2), {}, "mixes day-first and month-first"),
        ([f"2023-01-{k % 28 + 1:02d}" for k in range(N - 1)] + ["soon"], {}, "line 41 has 'soon'"),
        (["soon"] * (N // 2) + ["later"] * (N // 2), {"d": "%Y-%m-%d"}, "no value of"),
        (["2023-01-05"] * N, {"d": ""}, "is constant: nothing to learn"),
        (["2023-01-05"] * N, {"d": "%Q"}, "unknown format"),
    ],
)
def test_bad_date_columns_are_one_line_errors(tmp_path, values, dates, message):
    source = _csv(tmp_path, d=values, x=list(range(N)))
    with pytest.raises(UsageError, match=message) as info:
        if "%Q" in dates.get("d", ""):
            from train.column_kinds import parse_date_flag

            parse_date_flag("d=%Q")
        load_dataset(source, "y", dates=dates)
    assert "\n" not in str(info.value)


def test_cli_refuses_a_mixed_date_column_and_writes_nothing(tmp_path):
    source = _csv(tmp_path, d=["2023-01-05", "05/01/2023"] * (N // 2), x=list(range(N)))
    out = tmp_path / "run"
    result = run_train_cli("--data", source, "--target", "y", "--out", out)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "mixes date formats" in result.stderr
    assert not out.exists()
