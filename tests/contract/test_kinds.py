"""The one parser per kind that training, parity and serving call."""

import math
from datetime import date

import numpy as np
import pytest

from contract import kinds
from contract.kinds import BOOLEAN, DATE, NUMBER_TEXT, BadValue, parse_date
from contract.schema import Feature, Schema


def _days(y, m, d):
    return float((date(y, m, d) - date(1970, 1, 1)).days)


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("2023-05-01", "%Y-%m-%d", _days(2023, 5, 1)),
        ("29/02/2024", "%d/%m/%Y", _days(2024, 2, 29)),
        ("02/29/2024", "%m/%d/%Y", _days(2024, 2, 29)),
        ("1.3.2020", "%d.%m.%Y", _days(2020, 3, 1)),
        ("2023-07", "%Y-%m", _days(2023, 7, 1)),
        ("Jul-2023", "%b-%Y", _days(2023, 7, 1)),
        ("1970-01-02T12:00:00Z", kinds.ISO, 1.5),
        ("1970-01-02T14:00:00+02:00", kinds.ISO, 1.5),
        ("1970-01-02 12:00", kinds.ISO, 1.5),
        ("86400", kinds.EPOCH, 1.0),
        ("2023-05-01", "%d/%m/%Y", _days(2023, 5, 1)),  # ISO is always accepted
    ],
)
def test_dates_become_days_since_1970(text, fmt, expected):
    assert parse_date(text, fmt) == expected


@pytest.mark.parametrize(
    ("text", "fmt"), [("30/02/2023", "%d/%m/%Y"), ("2023-13-01", "%Y-%m-%d"), ("soon", "%Y-%m")]
)
def test_malformed_dates_name_the_expected_format(text, fmt):
    with pytest.raises(BadValue, match=f"expected a date as {fmt}"):
        parse_date(text, fmt)


def test_epoch_is_not_iso_and_iso_is_not_epoch():
    with pytest.raises(BadValue):
        parse_date("2023-05-01", kinds.EPOCH)
    assert not kinds.date_format_fits("86400", "%Y-%m-%d")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("$1,024.50", 1024.5), ("-$3", -3.0), ("12.5%", 12.5), ("36 months", 36.0),
     ("10+ years", 10.0), ("< 1 year", 1.0), ("€ 7", 7.0), (" 1,000,000 ", 1e6)],
)  # fmt: skip
def test_numbers_written_as_text(text, expected):
    assert kinds.parse_number_text(text) == expected


@pytest.mark.parametrize("text", ["1,2", "twelve", "$", "12 34"])
def test_not_numbers(text):
    with pytest.raises(BadValue, match="expected a number"):
        kinds.parse_number_text(text, "$#,##0.00")


def test_booleans_in_any_case_and_missing_tokens():
    assert [kinds.parse_boolean(t) for t in ("TRUE", "no", "Y", "f", "1")] == [1, 0, 1, 0, 1]
    assert math.isnan(kinds.parse_boolean("NA"))
    assert math.isnan(parse_date(" ", "%Y-%m-%d"))
    with pytest.raises(BadValue, match="expected a boolean"):
        kinds.parse_boolean("maybe")


def test_json_values_by_kind():
    spend = Feature("spend", NUMBER_TEXT, format="$#,##0.00")
    flag = Feature("autopay", BOOLEAN, format="TRUE/FALSE")
    day = Feature("signup", DATE, format="%d/%m/%Y", missing_allowed=False)
    assert kinds.parsed_value(spend, 12) == (12.0, None)
    assert kinds.parsed_value(spend, "$1,200") == (1200.0, None)
    assert kinds.parsed_value(flag, True) == (1.0, None)
    assert kinds.parsed_value(day, None) == (None, "missing value not allowed")
    value, error = kinds.parsed_value(day, 20000)
    assert value is None and "%d/%m/%Y" in error  # a date is text unless trained on epoch
    assert kinds.parsed_value(day, "27/07/2023") == (_days(2023, 7, 27), None)


def test_csv_cells_report_the_rows_that_do_not_fit():
    day = Feature("last_seen", DATE, format="%d/%m/%Y")
    values, problems = kinds.parsed_cells(day, ["27/07/2023", "", "31/02/2023", "27/07/2023"])
    assert values[0] == values[3] == _days(2023, 7, 27) and math.isnan(values[1])
    assert [(i, c) for i, c, _ in problems] == [(2, "31/02/2023")]
    assert "%d/%m/%Y" in problems[0][2]


def test_schema_keeps_kinds_and_formats_and_reads_v1():
    schema = Schema((Feature("d", DATE, format="%Y-%m"), Feature("n", "numeric")), "y", "no", "yes")
    data = schema.to_dict()
    assert data["format"].endswith("schema-v2")
    back = Schema.from_json(schema.to_json())
    assert back == schema and back.numeric == ["d", "n"]
    plain = Schema((Feature("n", "numeric"),), "y", "no", "yes").to_dict()
    assert plain["format"].endswith("schema-v1") and Schema.from_dict(plain).numeric == ["n"]
    assert back.example_record()["d"] == "1970-01"


def test_openapi_gives_date_format_and_number_pattern():
    import re

    assert kinds.openapi_schema(Feature("d", DATE, format="%Y-%m-%d"))["format"] == "date"
    assert kinds.openapi_schema(Feature("t", DATE, format=kinds.ISO))["format"] == "date-time"
    pattern = kinds.openapi_schema(Feature("s", NUMBER_TEXT, format="$#"))["pattern"]
    assert re.match(pattern, "$1,024.50") and not re.match(pattern, "1,2")


def test_typed_column_reads_raw_values_of_every_kind():
    from contract.feeds import typed_column

    got = typed_column(Feature("d", DATE, format="%d/%m/%Y"), ["02/01/1970", None, float("nan")])
    assert got[0] == 1.0 and np.isnan(got[1:]).all()
    assert typed_column(Feature("c", "categorical"), ["x", None]).tolist() == ["x", ""]
    with pytest.raises(BadValue, match="expected a boolean"):
        typed_column(Feature("b", BOOLEAN, format="yes/no"), ["maybe"])
