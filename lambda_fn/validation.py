"""Turn client input (JSON records, CSV rows) into model inputs, collecting
every problem with where it is, instead of stopping at the first."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from contract.cells import FLOAT32_MAX, MISSING_CATEGORY, read_category
from contract.kinds import PARSED_KINDS, parsed_value
from contract.schema import NUMERIC, Schema
from contract.values import is_number_text


class NonFinite:
    """Stands for a NaN/Infinity literal in a JSON body, so validation can
    name the field it appeared in (json.loads would accept it as a float)."""

    def __init__(self, text: str):
        self.text = text


class OutOfRange:
    """Stands for a JSON number whose value is beyond float32 (1e999, an
    integer of thousands of digits), so validation can name the field it
    appeared in."""

    def __init__(self, text: str):
        self.text = text


def parse_int(text: str):
    """A JSON integer's value. The value decides, not the length of its text:
    Python's int() refuses more than 4,300 digits (sys.get_int_max_str_digits),
    and a JSON integer that long (no leading zeros) is past 1e4299, far out of
    float32 range, so the refusal is that answer."""
    try:
        return int(text)
    except ValueError:
        return OutOfRange(text)


def parse_float(text: str):
    """A JSON fraction or exponent's value: '1.' and 399 zeros is 1.0, and
    accepted; 1e999 overflows to infinity and is out of range. float() reads
    even megabytes of digits in linear time."""
    value = float(text)
    return OutOfRange(text) if math.isinf(value) else value


def loads(body: str):
    """json.loads for request bodies: NaN/Infinity and out-of-range numbers
    become markers that validation names by field."""
    return json.loads(body, parse_constant=NonFinite, parse_int=parse_int, parse_float=parse_float)


# What an error echoes of a client's value or field name, at most.
ECHO_CHARS = 40


@dataclass(frozen=True)
class Problem:
    record: int  # 0-based record index (API) or 1-based file line (CSV)
    field: str | None
    message: str

    def to_dict(self, index_name: str = "record") -> dict:
        return {index_name: self.record, "field": self.field, "message": self.message}


def _number(value, allow_missing: bool):
    """(float or nan, error message or None) for a JSON value."""
    if value is None:
        return (math.nan, None) if allow_missing else (None, "missing value not allowed")
    if isinstance(value, NonFinite):
        return None, "NaN and infinity are not allowed; send null for a missing value"
    if isinstance(value, OutOfRange):
        return None, "number is out of float32 range"
    if isinstance(value, bool):
        return None, "expected a number, got a boolean"
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            return None, "number is out of float32 range"
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None, f"expected a number, got {_short(value)}"
    else:
        return None, f"expected a number, got {type(value).__name__}"
    if not math.isfinite(number):
        return None, "NaN and infinity are not allowed; send null for a missing value"
    if abs(number) > FLOAT32_MAX:
        return None, "number is out of float32 range"
    return number, None


def _category(value, allow_missing: bool):
    if value is None:
        return (MISSING_CATEGORY, None) if allow_missing else (None, "missing value not allowed")
    if isinstance(value, str):
        if not _is_unicode(value):
            return None, "not valid Unicode text (it holds an unpaired surrogate escape)"
        return read_category(value), None
    # Strings only, as contract/values.py publishes it: a number is refused, not
    # read as its text (see docs/api.md, "Categorical values are strings").
    return None, f"expected a string, got {_kind(value)}"


def _numeric(value, allow_missing: bool):
    """_number, for the strings contract/values.py's NUMBER_TEXT allows only."""
    if isinstance(value, str) and not is_number_text(value):
        try:
            float(value)
        except ValueError:
            return None, f"expected a number, got {_short(value)}"
        return None, f"{_short(value)} is not plain decimal text; send it as a JSON number"
    return _number(value, allow_missing)


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _short(value: str, limit: int = ECHO_CHARS) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "...")


def echo(name) -> str:
    """A client's field name as an error repeats it: bounded."""
    text = str(name)
    return text if len(text) <= ECHO_CHARS else text[:ECHO_CHARS] + "..."


def records_to_columns(records: list, schema: Schema) -> tuple[dict, list[Problem]]:
    """Validate JSON records; returns ([N,1] arrays per feature, problems)."""
    n = len(records)
    features = schema.features
    names = {f.name for f in features}
    columns = {
        f.name: np.empty((n, 1), dtype=np.float32 if f.input_kind == NUMERIC else object)
        for f in features
    }
    problems: list[Problem] = []
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            problems.append(Problem(i, None, f"record must be an object, got {_kind(record)}"))
            continue
        for f in features:
            if f.name not in record:
                problems.append(Problem(i, f.name, "missing field"))
                continue
            if f.kind in PARSED_KINDS:  # dates, booleans, numbers as text: contract/kinds.py
                value, error = parsed_value(f, record[f.name])
            elif f.kind == NUMERIC:
                value, error = _numeric(record[f.name], f.missing_allowed)
            else:
                value, error = _category(record[f.name], f.missing_allowed)
            if error:
                problems.append(Problem(i, f.name, error))
            else:
                columns[f.name][i, 0] = value
        if len(record) > len(features) or any(k not in names for k in record):
            for key in record:
                if key not in names:
                    problems.append(Problem(i, echo(key), "unknown field"))
    return columns, problems


def _kind(value) -> str:
    return {
        list: "an array",
        dict: "an object",
        str: "a string",
        type(None): "null",
        bool: "a boolean",
    }.get(type(value), "a number" if isinstance(value, int | float | OutOfRange) else "a value")
