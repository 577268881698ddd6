"""How one cell of a table or one JSON value is read, the same way in
training, export's parity check and serving. Standard library only."""

from __future__ import annotations

import math

# The largest magnitude a float32 holds (rounded down): model inputs are
# float32, so a larger number cannot reach the graph unchanged.
FLOAT32_MAX = 3.4e38

# A missing categorical value reaches the graph as this string. The ONNX
# string pipeline has no NaN, so training maps missing to the same value and
# the one-hot encoder learns it as an ordinary category.
MISSING_CATEGORY = ""

# CSV cells that mean "missing", in training (pandas na_values) and in the S3
# batch path alike: pandas' defaults plus common spreadsheet placeholders.
MISSING_TOKENS = frozenset(
    ["", "NA", "N/A", "n/a", "na", "NaN", "nan", "NULL", "null", "None", "none", "?", "-", "#N/A"]
)


def read_category(text: str) -> str:
    """A categorical value as training reads it: stripped, missing tokens -> MISSING_CATEGORY."""
    text = text.strip()
    return MISSING_CATEGORY if text in MISSING_TOKENS else text


def in_float32_range(number: float) -> bool:
    return math.isfinite(number) and abs(number) <= FLOAT32_MAX


def cell_number(text: str) -> float | None:
    """A CSV cell as float (nan when missing), or None when it is not a number
    or its value is beyond float32. The value decides, not the length of the
    text: float() reads any number of digits ('1.' and 399 zeros is 1.0)."""
    text = text.strip()
    if text in MISSING_TOKENS:
        return math.nan
    try:
        number = float(text)
    except ValueError:
        return None
    return number if in_float32_range(number) else None


def number_problem(text: str) -> str:
    """Why cell_number gave None for `text`: what an error report says."""
    try:
        float(text.strip())
    except ValueError:
        return "not a number"
    return "number is out of float32 range"
