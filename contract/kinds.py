"""The column kinds read from text: dates, booleans and numbers written as text.

One parser per kind, called the same way by training (typing the column and
building its values), by export's parity check and by serving (a JSON value
or a CSV cell). Each turns the text into the float32 the graph takes: days
since 1970-01-01 for a date (a fraction of a day for a timestamp), 1/0 for a
boolean, the number for a number written as text. Missing tokens give NaN; a
value that does not fit raises BadValue, whose message names the expected
format. Standard library only.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime

from contract.cells import MISSING_TOKENS

DATE = "date"
BOOLEAN = "boolean"
NUMBER_TEXT = "number_text"
PARSED_KINDS = (DATE, BOOLEAN, NUMBER_TEXT)

ISO = "iso8601"  # a date with a time (and maybe a zone): 2023-05-01T13:45:00+02:00
EPOCH = "epoch"  # seconds since 1970-01-01 UTC, only when the user says so
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# The date features' day arithmetic (train/dates.py, export/dates.py): day
# numbers clipped to years 1-9999, shifted to count from 0000-03-01.
DAY_LO, DAY_HI, CIVIL_SHIFT = -719162.0, 2932896.0, 719468
_MONTHS = {
    name: k + 1
    for k, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]  # fmt: skip
    )
    for name in names
}
# format -> (regex, order of the captured fields: y, m, d or b for a month name)
_DATE_FORMATS = {
    "%Y-%m-%d": (r"(\d{4})-(\d{1,2})-(\d{1,2})", "ymd"),
    "%Y/%m/%d": (r"(\d{4})/(\d{1,2})/(\d{1,2})", "ymd"),
    "%d/%m/%Y": (r"(\d{1,2})/(\d{1,2})/(\d{4})", "dmy"),
    "%m/%d/%Y": (r"(\d{1,2})/(\d{1,2})/(\d{4})", "mdy"),
    "%d.%m.%Y": (r"(\d{1,2})\.(\d{1,2})\.(\d{4})", "dmy"),
    "%d-%m-%Y": (r"(\d{1,2})-(\d{1,2})-(\d{4})", "dmy"),
    "%m-%d-%Y": (r"(\d{1,2})-(\d{1,2})-(\d{4})", "mdy"),
    "%Y-%m": (r"(\d{4})-(\d{1,2})", "ym"),
    "%b-%Y": (r"([A-Za-z]{3,9})-(\d{4})", "by"),
    "%b %Y": (r"([A-Za-z]{3,9}) (\d{4})", "by"),
}
_COMPILED = {fmt: (re.compile(rx), order) for fmt, (rx, order) in _DATE_FORMATS.items()}
DATE_FORMATS = (*_DATE_FORMATS, ISO, EPOCH)
_ISO_RE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?")

_TRUE = ("true", "yes", "y", "t", "1")
_FALSE = ("false", "no", "n", "f", "0")
BOOLEAN_WORDS = {**{w: 1.0 for w in _TRUE}, **{w: 0.0 for w in _FALSE}}

# A number with the decorations people type: a sign, a currency symbol,
# thousands separators, a percent sign, a trailing "+" and a unit word.
NUMBER_RE = re.compile(
    r"\s*(?P<cmp>[<>]=?)?\s*(?P<sign>[-+])?\s*(?P<cur>[$€£¥])?\s*(?P<sign2>-)?"
    r"(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)"
    r"\s*(?P<pct>%)?(?P<plus>\+)?\s*(?P<unit>[A-Za-z][A-Za-z.]*(?: [A-Za-z.]+)?)?\s*"
)
NUMBER_PATTERN = (
    r"^\s*([<>]=?)?\s*[-+]?\s*[$€£¥]?\s*-?((\d{1,3}(,\d{3})+|\d+)(\.\d+)?|\.\d+)"
    r"\s*%?\+?\s*([A-Za-z][A-Za-z.]*( [A-Za-z.]+)?)?\s*$"
)


class BadValue(ValueError):
    """A value that does not fit its column's kind; the message says what was expected."""


def _days(y: int, m: int, d: int) -> float:
    return float(date(y, m, d).toordinal() - _EPOCH_ORDINAL)


def _iso(text: str) -> float | None:
    if not _ISO_RE.fullmatch(text):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp() / 86400.0


def _with_format(text: str, fmt: str) -> float | None:
    if fmt == ISO:
        return _iso(text)
    if fmt == EPOCH:
        try:
            seconds = float(text)
        except ValueError:
            return None
        return seconds / 86400.0 if math.isfinite(seconds) else None
    pattern, order = _COMPILED[fmt]
    match = pattern.fullmatch(text)
    if match is None:
        return None
    parts = dict(zip(order, match.groups(), strict=True))
    month = _MONTHS.get(parts["b"].lower()) if "b" in parts else int(parts["m"])
    if month is None:
        return None
    try:
        return _days(int(parts["y"]), month, int(parts.get("d", 1)))
    except ValueError:  # 31/02, month 13
        return None


def describe(kind: str, fmt: str) -> str:
    """What a value of this kind and format looks like, for error messages."""
    if kind == DATE:
        if fmt == EPOCH:
            return "seconds since 1970-01-01 (epoch)"
        if fmt == ISO:
            return "an ISO 8601 date or timestamp such as 2023-05-01T13:45:00Z"
        return f"a date as {fmt} (or ISO 8601 YYYY-MM-DD)"
    if kind == BOOLEAN:
        return f"a boolean ({fmt}; true/false, yes/no, y/n or 1/0 in any case)"
    return f"a number, optionally written as {fmt}"


def parse_date(text: str, fmt: str, iso_too: bool = True) -> float:
    """Days since 1970-01-01 (NaN when missing). `iso_too` also takes ISO 8601,
    as /predict does whatever format the model was trained on."""
    text = text.strip()
    if text in MISSING_TOKENS:
        return math.nan
    value = _with_format(text, fmt)
    if value is None and iso_too and fmt != EPOCH:
        value = _iso(text)
    if value is None:
        raise BadValue(f"expected {describe(DATE, fmt)}")
    return value


def parse_boolean(text: str, fmt: str = "true/false") -> float:
    text = text.strip()
    if text in MISSING_TOKENS:
        return math.nan
    value = BOOLEAN_WORDS.get(text.lower())
    if value is None:
        raise BadValue(f"expected {describe(BOOLEAN, fmt)}")
    return value


def number_parts(text: str):
    """The regex match of a number written as text, or None."""
    return NUMBER_RE.fullmatch(text)


def parse_number_text(text: str, fmt: str = "#") -> float:
    text = text.strip()
    if text in MISSING_TOKENS:
        return math.nan
    match = NUMBER_RE.fullmatch(text)
    if match is None:
        raise BadValue(f"expected {describe(NUMBER_TEXT, fmt)}")
    value = float(match["num"].replace(",", ""))
    if match["sign"] == "-" or match["sign2"]:
        value = -value
    return value


_PARSERS = {DATE: parse_date, BOOLEAN: parse_boolean, NUMBER_TEXT: parse_number_text}


def parse_text(kind: str, fmt: str, text: str) -> float:
    """A CSV cell of a parsed kind as the graph's float32 input."""
    return _PARSERS[kind](text, fmt)


def parse_json(kind: str, fmt: str, value) -> float:
    """A JSON value (None = missing) of a parsed kind; raises BadValue."""
    if value is None:
        return math.nan
    if isinstance(value, bool):
        if kind == BOOLEAN:
            return float(value)
        raise BadValue(f"expected {describe(kind, fmt)}, got a boolean")
    if isinstance(value, int | float) and (kind != DATE or fmt == EPOCH):
        if not math.isfinite(float(value)):
            raise BadValue("NaN and infinity are not allowed; send null for a missing value")
        if kind == BOOLEAN and value not in (0, 1):
            raise BadValue(f"expected {describe(kind, fmt)}")
        return float(value) / (86400.0 if kind == DATE else 1.0)
    if not isinstance(value, str):
        raise BadValue(f"expected {describe(kind, fmt)}")
    return parse_text(kind, fmt, value)


def date_format_fits(text: str, fmt: str) -> bool:
    """Whether `text` (stripped, present) is a date in exactly `fmt` (training's typing)."""
    return _with_format(text, fmt) is not None


def slash_fields(text: str) -> tuple[int, int] | None:
    """The first two fields of a d/m/Y or m/d/Y date (any of / . -), else None."""
    match = re.fullmatch(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})", text)
    return (int(match[1]), int(match[3])) if match else None


def parsed_value(feature, value) -> tuple[float | None, str | None]:
    """(float, None) or (None, message) for one JSON value of a parsed-kind
    feature: what /predict's validation calls."""
    if value is None and not feature.missing_allowed:
        return None, "missing value not allowed"
    try:
        number = parse_json(feature.kind, feature.format, value)
    except BadValue as exc:
        return None, str(exc)
    if math.isfinite(number) and abs(number) > 3.4e38:
        return None, "number is out of float32 range"
    return number, None


def parsed_cells(feature, cells: list[str]):
    """float32-ready values of one CSV column of a parsed kind (each distinct
    cell parsed once, the column then looked up in C) and the (index, cell,
    reason) of the cells that do not fit."""
    import numpy as np

    mapping: dict[str, float | None] = {}
    for cell in dict.fromkeys(cells):
        try:
            mapping[cell] = parse_text(feature.kind, feature.format, cell)
        except BadValue:
            mapping[cell] = None
    if None not in mapping.values():
        return np.array(list(map(mapping.__getitem__, cells)), np.float32), []
    reason = f"expected {describe(feature.kind, feature.format)}"
    values = np.array([math.nan if mapping[c] is None else mapping[c] for c in cells], np.float32)
    return values, [(i, c, reason) for i, c in enumerate(cells) if mapping[c] is None]


def openapi_schema(feature) -> dict:
    """The OpenAPI (JSON Schema) of one parsed-kind feature's JSON value."""
    missing = " null means missing." if feature.missing_allowed else " Missing is not allowed."
    nullable = ["null"] if feature.missing_allowed else []
    what = describe(feature.kind, feature.format)
    if feature.kind == DATE and feature.format != EPOCH:
        date_format = "date-time" if feature.format == ISO else "date"
        body = {"type": ["string", *nullable], "examples": ["2023-05-01"]}
        if feature.format in ("%Y-%m-%d", ISO):
            body["format"] = date_format
        return {**body, "description": f"Date: {what}." + missing}
    if feature.kind == BOOLEAN:
        return {
            "type": ["boolean", "string", "integer", *nullable],
            "description": f"Boolean: {what}." + missing,
        }
    if feature.kind == DATE:
        return {"type": ["number", *nullable], "description": f"Date: {what}." + missing}
    return {
        "type": ["string", "number", *nullable],
        "pattern": NUMBER_PATTERN,
        "description": f"Number written as text: {what}." + missing,
    }
