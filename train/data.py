"""Load a CSV (local or s3://), infer the feature schema, and clean the target.

Every user mistake found here raises UsageError with a message that names the
file and the column, before anything is trained or written.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from contract import csv_sniff
from contract.cells import MISSING_CATEGORY, MISSING_TOKENS
from contract.schema import CATEGORICAL, NUMERIC, Feature, Schema
from train.table import Column, head_bytes, read_columns

log = logging.getLogger(__name__)

# The exported graph's output names; a feature may not be called the same.
RESERVED_NAMES = frozenset({"probability", "label"})
# Below this many rows a unique column is not evidence of an identifier.
MIN_ROWS_FOR_ID_CHECK = 20


class UsageError(Exception):
    """A problem with the user's input; the CLI prints it in one line and exits 2."""


@dataclass
class Dataset:
    """Features, the binary target (1 = positive) and what was learned about them."""

    X: pd.DataFrame
    y: np.ndarray
    schema: Schema
    source: str
    sha256: str
    notes: list[str] = field(default_factory=list)


def parse_csv(raw: bytes, source: str, delimiter: str = ",") -> pd.DataFrame:
    """All columns as strings; kinds are decided later, column by column."""
    if not raw.strip():
        raise UsageError(f"{source} is empty")
    reason = csv_sniff.not_csv(head_bytes(raw, raw[:2] == csv_sniff.GZIP_MAGIC), gzip_ok=True)
    if reason:
        raise UsageError(f"{source} is {reason}")
    compression = "gzip" if raw[:2] == csv_sniff.GZIP_MAGIC else None
    try:
        frame = pd.read_csv(
            io.BytesIO(raw),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_values=sorted(MISSING_TOKENS),
            skipinitialspace=True,
            compression=compression,
        )
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"{source} is not a readable CSV: {first_line}") from exc
    except pd.errors.EmptyDataError as exc:
        raise UsageError(f"{source} has no columns") from exc
    if frame.empty:
        raise UsageError(f"{source} has a header but no data rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    dupes = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    if dupes:
        raise UsageError(f"{source} has duplicate column names: {', '.join(dupes)}")
    return frame


def _as_numbers(column: Column) -> np.ndarray | None:
    """The column as float32 if every present value is a number, else None
    (pd.to_numeric on its distinct strings, as it was on all of them)."""
    if column.numbers is not None:
        return column.numbers.astype(np.float32)
    values = _distinct_numbers(column)
    if np.isnan(values).any() or np.isinf(values).any():
        return None
    return column.take(values.astype(np.float32), np.float32(np.nan))


def _distinct_numbers(column: Column) -> np.ndarray:
    """float64 of each distinct string, NaN when it is not a number."""
    _, values = column.strings()
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )


def resolve_label(values: pd.Series, positive: str | None, source: str, target: str):
    """Return (negative, positive) as spelled in the file."""
    counts = values.value_counts()
    classes = list(counts.index)
    if len(classes) < 2:
        only = classes[0] if classes else "nothing"
        raise UsageError(f"target column {target!r} in {source} has one class only ({only!r})")
    if len(classes) > 2:
        shown = ", ".join(repr(c) for c in classes[:6])
        raise UsageError(
            f"target column {target!r} in {source} has {len(classes)} classes ({shown}), "
            "expected exactly two"
        )
    if positive is None:
        pos = counts.index[-1]  # value_counts is descending: the last is the minority
        if counts.iloc[0] == counts.iloc[1]:
            pos = sorted(classes)[-1]
    else:
        matches = [c for c in classes if c == positive] or [
            c for c in classes if c.lower() == positive.lower()
        ]
        if not matches:
            raise UsageError(
                f"--positive {positive!r} is not a value of {target!r} in {source}; "
                f"its values are {', '.join(repr(c) for c in classes)}"
            )
        pos = matches[0]
    neg = next(c for c in classes if c != pos)
    return neg, pos


def _check_flags(columns, source, target, delimiter, drop, keep, numeric, categorical, dates):
    """The column flags and the target name columns that exist, and agree."""
    named = {
        "--drop": drop,
        "--keep": keep,
        "--numeric": numeric,
        "--categorical": categorical,
        "--date": tuple(dates),
    }
    for flag, cols in named.items():
        missing = [c for c in cols if c not in columns]
        if missing:
            raise UsageError(
                f"{flag} names column(s) not in {source}: {', '.join(repr(c) for c in missing)}"
            )
    if target not in columns:
        hint = ""
        if len(columns) == 1:
            hint = (
                f" (one column only: are the fields separated by something other than "
                f"{delimiter!r}? --delimiter sets it)"
            )
        raise UsageError(
            f"target column {target!r} not found in {source}; "
            f"columns are: {', '.join(list(columns)[:30])}{hint}"
        )
    both = (set(numeric) & set(categorical)) | (set(dates) & (set(numeric) | set(categorical)))
    if both:
        raise UsageError(
            f"column(s) given two kinds (--numeric/--categorical/--date): {sorted(both)}"
        )
    if target in drop or target in numeric or target in categorical or target in dates:
        raise UsageError(f"the target column {target!r} cannot also be a feature flag")


def _target(column: Column, target, positive, source) -> tuple[np.ndarray, str, str]:
    """(y as 0/1, negative label, positive label); a missing label is an error."""
    labels = column.series()
    missing_target = labels.isna()
    if missing_target.any():
        rows = (np.flatnonzero(missing_target.to_numpy()) + 2)[:5]  # +2: header, 1-based
        raise UsageError(
            f"target column {target!r} in {source} has {int(missing_target.sum())} missing "
            f"value(s), first at line(s) {', '.join(map(str, rows))}; drop or fill those rows"
        )
    negative_label, positive_label = resolve_label(labels, positive, source, target)
    y = (labels == positive_label).to_numpy().astype(np.int64)
    return y, negative_label, positive_label


def _type_columns(features: dict[str, Column], source, keep, numeric, categorical, dates, dropped):
    """Each feature column typed (numbers, dates, booleans, numbers written as
    text or categories; contract/kinds.py reads the parsed kinds) or dropped,
    with the reason added to `dropped`: (columns, schema features). Columns
    are consumed (popped) as they are typed, so their raw strings are freed."""
    from train import column_kinds

    columns: dict[str, pd.Series | np.ndarray] = {}
    schema_features: list[Feature] = []
    for name in list(features):
        column = features.pop(name)
        n = column.rows
        if column.distinct == 0 or (column.distinct == 1 and not column.missing):
            dropped[name] = "constant" if column.distinct else "always missing"
            if name in dates:
                raise UsageError(
                    f"column {name!r} in {source} is {dropped[name]}: nothing to learn"
                )
            continue
        if name in dates:
            typed = column_kinds.forced_date(name, column.series(), dates[name], source)
            columns[name] = typed.values
            schema_features.append(typed.feature)
            continue
        as_numbers = None if name in categorical else _as_numbers(column)
        if name in numeric and as_numbers is None:
            codes, values = column.strings()
            bad = np.isnan(_distinct_numbers(column))
            line = int(np.flatnonzero(np.append(bad, False)[codes])[0])
            raise UsageError(
                f"--numeric {name!r}: line {line + 2} of {source} has {values[codes[line]]!r}, "
                "not a number"
            )
        if as_numbers is not None:
            columns[name] = as_numbers
            schema_features.append(Feature(name, NUMERIC, missing_allowed=True))
            continue
        col = column.series()
        typed = None if name in categorical else column_kinds.infer(name, col, source)
        if typed is not None and typed.dropped and name not in keep:
            dropped[name] = typed.dropped
            continue
        if typed is not None and typed.feature is not None:
            columns[name] = typed.values
            schema_features.append(typed.feature)
            continue
        if (
            name not in keep
            and n >= MIN_ROWS_FOR_ID_CHECK
            and column.distinct == n
            and not column.missing
        ):
            dropped[name] = "identifier (unique per row and not numeric); --keep to use it"
            continue
        _, values = column.strings()
        # Object cells that share one string per distinct value: 8 bytes a row.
        columns[name] = pd.Series(column.take(values, MISSING_CATEGORY), dtype=object)
        categories = set(values) | ({MISSING_CATEGORY} if column.missing else set())
        schema_features.append(
            Feature(name, CATEGORICAL, missing_allowed=True, categories=tuple(sorted(categories)))
        )
    return columns, schema_features


def _duplicates(X, y, dedupe: bool, notes: list[str]):
    """Exact duplicate rows (features and target) kept with a note, or removed."""
    duplicated = pd.concat([X, pd.Series(y, index=X.index, name="__y")], axis=1).duplicated()
    if duplicated.any() and not dedupe:
        notes.append(
            f"{int(duplicated.sum())} exact duplicate row(s) kept; a copy may land in both the "
            "train and the test split (--dedupe removes them)"
        )
        return X.reset_index(drop=True), y
    if duplicated.any():
        notes.append(f"{int(duplicated.sum())} exact duplicate row(s) removed (--dedupe)")
        return X.loc[~duplicated.to_numpy()].reset_index(drop=True), y[~duplicated.to_numpy()]
    return X.reset_index(drop=True), y


def load_dataset(
    source: str,
    target: str,
    positive: str | None = None,
    drop: tuple[str, ...] = (),
    keep: tuple[str, ...] = (),
    numeric: tuple[str, ...] = (),
    categorical: tuple[str, ...] = (),
    dedupe: bool = False,
    delimiter: str | None = None,
    dates: dict[str, str] | None = None,
) -> Dataset:
    """delimiter: the field separator; None detects ';', tab or '|' from the header.
    dates: `--date` columns -> their format ('' to detect it)."""
    dates = dict(dates or {})
    notes: list[str] = []
    features, delimiter, sha256 = read_columns(source, delimiter, notes)
    _check_flags(features, source, target, delimiter, drop, keep, numeric, categorical, dates)
    y, negative_label, positive_label = _target(features.pop(target), target, positive, source)

    dropped: dict[str, str] = {c: "dropped by --drop" for c in drop}
    for name in drop:
        del features[name]
    columns, schema_features = _type_columns(
        features, source, keep, numeric, categorical, dates, dropped
    )
    if not schema_features:
        raise UsageError(f"{source} has no usable feature columns besides {target!r}")
    reserved = [f.name for f in schema_features if f.name in RESERVED_NAMES]
    if reserved:
        raise UsageError(
            f"feature column(s) {', '.join(map(repr, reserved))} in {source} would collide with "
            "the model's outputs (probability, label); rename them or --drop them"
        )
    for name, why in dropped.items():
        if why != "dropped by --drop":
            notes.append(f"column {name!r} dropped: {why}")
    X, y = _duplicates(pd.DataFrame(columns, index=pd.RangeIndex(len(y))), y, dedupe, notes)
    schema = Schema(
        features=tuple(schema_features),
        target=target,
        negative_label=negative_label,
        positive_label=positive_label,
        dropped=dropped,
    )
    return Dataset(
        X=X,
        y=y,
        schema=schema,
        source=source,
        sha256=sha256,
        notes=notes,
    )
