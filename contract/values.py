"""Which JSON value each feature takes in a request: the one definition that the
OpenAPI document publishes (contract/openapi.py) and the request validator
enforces (lambda_fn/validation.py). Standard library only."""

from __future__ import annotations

import re

from contract.cells import FLOAT32_MAX
from contract.kinds import PARSED_KINDS, openapi_schema
from contract.schema import CATEGORICAL, Feature

# A number sent as a string: optional sign, digits, optional fraction, optional
# one-digit exponent, ASCII digits only. At most 29 digits before the point and
# an exponent of at most 9 keep every match below 1e38, inside float32's range,
# so that a string the pattern allows is never refused for its size.
NUMBER_TEXT = r"^[+-]?([0-9]{1,29}(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9])?$"
_NUMBER_TEXT = re.compile(NUMBER_TEXT)


def is_number_text(text: str) -> bool:
    """True when `text` matches NUMBER_TEXT as a JSON Schema validator reads a
    pattern (a search, Python's re)."""
    return _NUMBER_TEXT.search(text) is not None


def value_schema(feature: Feature) -> dict:
    """The JSON Schema of one feature's value.

    Numeric: a JSON number within float32's range, or a NUMBER_TEXT string
    (`minimum`/`maximum` apply to numbers only, `pattern` to strings only).
    Categorical: a string, never a number: categories are the text training
    read, and a client sending 0 for a category has most likely sent a code
    from its own encoding, which the model has never seen.
    Dates, booleans and numbers written as text: as contract/kinds.py parses them.
    Null where the schema allows missing values.
    """
    if feature.kind in PARSED_KINDS:  # dates, booleans, numbers as text: contract/kinds.py
        return openapi_schema(feature)
    null = ["null"] if feature.missing_allowed else []
    if feature.kind == CATEGORICAL:
        return {"type": ["string", *null] if null else "string"}
    return {
        "type": ["number", "string", *null],
        "minimum": -FLOAT32_MAX,
        "maximum": FLOAT32_MAX,
        "pattern": NUMBER_TEXT,
    }
