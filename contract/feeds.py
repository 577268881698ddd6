"""A table as the graph's inputs: one [N, 1] array per raw feature column,
float32 for numbers and Python strings for categories (the contract in
docs/export.md). Standard library and numpy only; a pandas DataFrame is read
through its columns' ``to_numpy()``, so pandas is not imported here."""

from __future__ import annotations

import math

import numpy as np

from contract.cells import MISSING_CATEGORY
from contract.kinds import PARSED_KINDS, parse_json
from contract.schema import NUMERIC, Schema


def column_feed(kind: str, values) -> np.ndarray:
    """One column's values as the [N, 1] input its kind takes."""
    values = np.asarray(values)
    if kind == NUMERIC:
        return values.astype(np.float32).reshape(-1, 1)
    return values.astype(str).astype(object).reshape(-1, 1)


def from_frame(frame, schema: Schema) -> dict[str, np.ndarray]:
    """The graph's feeds for every schema feature of a DataFrame (or any
    mapping of column name -> array-like)."""
    return {f.name: column_feed(f.input_kind, _values(frame[f.name])) for f in schema.features}


def _values(column):
    return column.to_numpy() if hasattr(column, "to_numpy") else column


def typed_column(feature, values) -> np.ndarray:
    """Raw values of one column (JSON values or CSV text; None or NaN = missing)
    as its graph input: a date, boolean or number written as text through its
    contract parser (raises contract.kinds.BadValue), a number as float32, a
    category as a string."""
    values = list(_values(values))
    missing = [v is None or (isinstance(v, float) and math.isnan(v)) for v in values]
    if feature.kind in PARSED_KINDS:
        return np.array(
            [
                math.nan if m else parse_json(feature.kind, feature.format, v)
                for v, m in zip(values, missing, strict=True)
            ],
            dtype=np.float32,
        )
    if feature.input_kind == NUMERIC:
        return np.array(
            [math.nan if m else v for v, m in zip(values, missing, strict=True)], np.float32
        )
    return np.array(
        [MISSING_CATEGORY if m else v for v, m in zip(values, missing, strict=True)], object
    )
