"""What a text column holds: dates, booleans, numbers written as text, free text.

Decided from the training column's values with the parsers of
contract/kinds.py, so serving reads the same values the same way. A column
that is almost but not quite one kind (mixed date formats, a d/m/Y column
whose values cannot tell day from month, stray values among dates) is a
usage error naming the column and a way out, never a silent guess.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from contract import kinds
from contract.kinds import BOOLEAN, DATE, EPOCH, ISO, NUMBER_TEXT
from contract.schema import Feature
from train.data import UsageError

# A column is taken to be dates when this share of its distinct values parse
# as one date format; below it, values that look like dates are categories.
DATE_SHARE = 0.8
# Free text: long on average, mostly words, mostly distinct.
TEXT_MIN_CHARS = 25
TEXT_MIN_DISTINCT_SHARE = 0.5
_ORDER = ("%Y-%m-%d", ISO, "%Y/%m/%d", "%Y-%m", "%b-%Y", "%b %Y")
_SLASHED = {"/": ("%d/%m/%Y", "%m/%d/%Y"), ".": ("%d.%m.%Y", None), "-": ("%d-%m-%Y", "%m-%d-%Y")}


@dataclass(frozen=True)
class Typed:
    """A column's decided kind: its feature and float32 values, or why it is dropped."""

    feature: Feature | None = None
    values: pd.Series | None = None
    dropped: str = ""


def parse_date_flag(text: str) -> tuple[str, str]:
    """`--date COL[=FORMAT]` -> (column, format or '')."""
    name, _, fmt = text.partition("=")
    name, fmt = name.strip(), fmt.strip()
    if not name:
        raise UsageError(f"--date {text!r}: expected COLUMN or COLUMN=FORMAT")
    if fmt and fmt not in kinds.DATE_FORMATS:
        raise UsageError(
            f"--date {text!r}: unknown format {fmt!r}; use one of {', '.join(kinds.DATE_FORMATS)}"
        )
    return name, fmt


def _line(col: pd.Series, value: str) -> int:
    return int(np.flatnonzero((col == value).to_numpy())[0]) + 2  # header, 1-based


def _values(col: pd.Series, kind: str, fmt: str) -> pd.Series:
    mapping = {v: kinds.parse_text(kind, fmt, v) for v in col.dropna().unique()}
    return col.map(mapping).astype("float32")


def _slashed_format(distinct: list[str], name: str, source: str) -> str | None:
    fields = [kinds.slash_fields(v) for v in distinct]
    if not distinct or any(f is None for f in fields):
        return None
    seps = {next(ch for ch in v if not ch.isdigit()) for v in distinct}
    if len(seps) != 1:
        return None
    day_first, month_first = _SLASHED[seps.pop()]
    first_big = any(a > 12 for a, _ in fields)
    second_big = any(b > 12 for _, b in fields)
    if first_big and second_big:
        raise UsageError(
            f"column {name!r} in {source} mixes day-first and month-first dates (both "
            f"{day_first} and {month_first} values); fix the file or --categorical {name}"
        )
    if not first_big and not second_big:
        raise UsageError(
            f"column {name!r} in {source} holds dates whose day and month cannot be told apart "
            f"(no field is over 12); say which with --date {name}={day_first} or "
            f"--date {name}={month_first or day_first.replace('%d', '%m', 1)}"
        )
    return day_first if first_big else month_first


def _date_format(col: pd.Series, distinct: list[str], name: str, source: str) -> str | None:
    fmt = _slashed_format(distinct, name, source)
    if fmt:
        return fmt
    best, best_n = None, 0
    fits_any = {v for v in distinct if kinds.slash_fields(v)}
    for candidate in _ORDER:
        fits = [v for v in distinct if kinds.date_format_fits(v, candidate)]
        fits_any.update(fits)
        if len(fits) > best_n:
            best, best_n = candidate, len(fits)
    if best is None:
        if fits_any and len(fits_any) < len(distinct):
            best, best_n = "d/m/Y", len(fits_any)
        else:
            return None
    if best_n == len(distinct):
        return best
    if len(fits_any) == len(distinct):
        raise UsageError(
            f"column {name!r} in {source} mixes date formats ({best} and others); write one "
            f"format, or --date {name}=FORMAT to read that one and report the rest"
        )
    if best_n >= DATE_SHARE * len(distinct):
        bad = next(v for v in distinct if v not in fits_any)
        raise UsageError(
            f"column {name!r} in {source} holds dates ({best}) but line {_line(col, bad)} has "
            f"{bad[:40]!r}; fix or blank it, or --categorical {name}"
        )
    return None


def _boolean(distinct: list[str]) -> str | None:
    lowered = {v.lower() for v in distinct}
    for true, false in zip(kinds._TRUE, kinds._FALSE, strict=True):
        if lowered <= {true, false} and len(lowered) == 2:
            t = next(v for v in distinct if v.lower() == true)
            f = next(v for v in distinct if v.lower() == false)
            return f"{t}/{f}"
    return None


def _number_text(distinct: list[str]) -> str | None:
    matches = [kinds.number_parts(v) for v in distinct]
    if not distinct or any(m is None for m in matches):
        return None
    prefix = Counter(m["cur"] or "" for m in matches).most_common(1)[0][0]
    units = Counter(
        ("%" if m["pct"] else "")
        + ("+" if m["plus"] else "")
        + (f" {m['unit']}" if m["unit"] else "")
        for m in matches
    )
    suffix = units.most_common(1)[0][0]
    words = {(m["unit"] or "").lower().rstrip("s") for m in matches}
    if len(words) > 2:  # codes such as 12AB, 7XL: not one unit
        return None
    thousands = any("," in m["num"] for m in matches)
    decimals = max(len(m["num"].partition(".")[2]) for m in matches)
    body = ("#,##0" if thousands else "#") + ("." + "0" * decimals if decimals else "")
    return f"{prefix}{body}{suffix}"


def _is_text(present: pd.Series, distinct: list[str]) -> bool:
    # Over the distinct values, weighted by their counts: the same means as
    # over every row, without a Python call per row.
    counts = present.value_counts(sort=False)
    values = counts.index.to_series()
    rows = counts.to_numpy().sum()
    mean_length = float((values.str.len().to_numpy() * counts.to_numpy()).sum() / rows)
    spaced = float(counts.to_numpy()[values.str.contains(" ", regex=False).to_numpy()].sum() / rows)
    return (
        mean_length >= TEXT_MIN_CHARS
        and spaced >= 0.5
        and len(distinct) >= TEXT_MIN_DISTINCT_SHARE * len(present)
    )


def forced_date(name: str, col: pd.Series, fmt: str, source: str) -> Typed:
    """`--date COL[=FORMAT]`: every present value must be a date in the format."""
    present = col.dropna()
    distinct = list(present.unique())
    if not fmt:
        fmt = _date_format(col, distinct, name, source) or ""
        if not fmt:
            raise UsageError(
                f"--date {name}: no date format fits its values (e.g. line "
                f"{_line(col, distinct[0])}: {distinct[0][:40]!r}); give one with "
                f"--date {name}=FORMAT ({', '.join(kinds.DATE_FORMATS)})"
            )
    bad = [v for v in distinct if not kinds.date_format_fits(v, fmt)]
    if bad:
        what = "no value" if len(bad) == len(distinct) else f"line {_line(col, bad[0])}"
        raise UsageError(
            f"--date {name}={fmt}: {what} of {source} fits ({bad[0][:40]!r} is not "
            f"{kinds.describe(DATE, fmt)})"
        )
    return Typed(Feature(name, DATE, format=fmt), _values(col, DATE, fmt))


def infer(name: str, col: pd.Series, source: str) -> Typed | None:
    """The column's kind when it is a date, boolean, number written as text or
    free text; None for the kinds data.py decides (numeric, categorical, id)."""
    present = col.dropna()
    distinct = list(present.unique())
    if not distinct:
        return None
    fmt = _boolean(distinct)
    if fmt:
        return Typed(Feature(name, BOOLEAN, format=fmt), _values(col, BOOLEAN, fmt))
    fmt = _date_format(col, distinct, name, source)
    if fmt and fmt != EPOCH:
        return Typed(Feature(name, DATE, format=fmt), _values(col, DATE, fmt))
    fmt = _number_text(distinct)
    if fmt:
        return Typed(Feature(name, NUMBER_TEXT, format=fmt), _values(col, NUMBER_TEXT, fmt))
    if _is_text(present, distinct):
        return Typed(
            dropped="free text (long, mostly distinct strings; not used as a feature); "
            "--keep to use it as a categorical"
        )
    return None


def describe(feature: Feature) -> str:
    """'signup_date: date, format %Y-%m-%d' for the run's output and the report."""
    text = f"{feature.name}: {feature.kind.replace('_', ' ')}"
    return text + (f", format {feature.format}" if feature.format else "")


def date_columns(schema) -> list[tuple[str, str]]:
    """(name, format) of the schema's date features, for the date-derived features."""
    return [(f.name, f.format) for f in schema.features if f.kind == DATE]


def report_rows(schema) -> list[list[str]]:
    """[column, how it is read] for every column not simply numeric or one-hot."""
    from train.encoding import describe as encodings

    rows = [[f.name, describe(f).partition(": ")[2]] for f in schema.features if f.format]
    return rows + [line.split(": ", 1) for line in encodings(schema)]
