"""Derived features that become part of the model (and so of the ONNX graph).

- Sums of numeric columns: `--sum "total charge=day charge+eve charge"`, or
  found by `discover` among columns whose names share a word. Trees split on
  one column at a time, so a total that drives the target (a customer's whole
  bill) is hard for them to rebuild from its parts.
- Missing indicators: 1 where a numeric column is missing (imputation would
  otherwise hide that the value was absent).
- Sentinel indicators: 1 where a numeric column holds its frequent extreme
  value, e.g. `-1` for "never contacted"; a linear model cannot see that code.
- Calendar positions: a categorical column of month names becomes the day of
  the year its month starts on, plus the day of the month when a column holds
  one. One-hot months are twelve unordered columns; a tree splits one ordered
  column into seasons or date ranges at once (campaign data is often recorded
  by month and day, and the response rate drifts over the calendar).

Each is a few float32 operations that export writes as ONNX nodes (Add,
IsNaN, Equal, Cast, LabelEncoder), so callers keep sending raw columns. Which of them a
model uses is a search dimension, chosen by cross-validation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.metrics import roc_auc_score

from contract.cells import MISSING_CATEGORY
from train.data import UsageError
from train.dates import add_calendar
from train.dates import candidates as date_candidates

MAX_SUMS = 5  # discovered sums kept, strongest first
MAX_GROUP = 8  # a shared word across more columns than this is not a "related" group
SENTINEL_MIN_SHARE = 0.05
SENTINEL_MIN_DISTINCT = 10
MONTHS_MIN_DISTINCT = 6  # fewer month names than this may be words that look like months
DAY_MIN_DISTINCT = 20  # a day-of-month column covers most days
DAY_MIN_SHARE = 0.99
_MONTH_NAMES = [
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
    ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
    ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"), ("december", "dec"),
]  # fmt: skip
MONTH_NUMBER = {name: k for k, names in enumerate(_MONTH_NAMES) for name in names}
DAYS_BEFORE_MONTH = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)  # not a leap year


def parse_sum(text: str, numeric: list[str], existing: list[str]) -> tuple[str, tuple[str, ...]]:
    name, sep, rhs = text.partition("=")
    name = name.strip()
    parts = tuple(p.strip() for p in rhs.split("+") if p.strip())
    if not sep or not name or len(parts) < 2:
        raise UsageError(f"--sum {text!r}: expected NAME=COLUMN+COLUMN[+COLUMN...]")
    if name in existing:
        raise UsageError(f"--sum {text!r}: {name!r} is already a column name")
    for part in parts:
        if part not in numeric:
            raise UsageError(f"--sum {text!r}: {part!r} is not a numeric feature column")
    return name, parts


@dataclass(frozen=True)
class DerivedSpec:
    """What `DerivedFeatures` appends, in this order: sums, missing, sentinels, dates."""

    sums: tuple[tuple[str, tuple[str, ...]], ...] = ()
    missing: tuple[tuple[str, str], ...] = ()  # (name, column)
    sentinels: tuple[tuple[str, str, float], ...] = ()  # (name, column, value)
    # (name, month column, day column or None, ((month value, first day of year), ...))
    dates: tuple[tuple[str, str, str | None, tuple[tuple[str, float], ...]], ...] = ()
    calendar: tuple[tuple[str, str, str, str], ...] = ()  # train/dates.py: (name, op, col, other)

    @property
    def names(self) -> list[str]:
        return (
            [n for n, _ in self.sums]
            + [n for n, _ in self.missing]
            + [n for n, _, _ in self.sentinels]
            + [n for n, _, _, _ in self.dates]
            + [n for n, _, _, _ in self.calendar]
        )

    def __bool__(self) -> bool:
        return bool(self.sums or self.missing or self.sentinels or self.dates or self.calendar)

    def merged(self, other: DerivedSpec) -> DerivedSpec:
        return DerivedSpec(
            self.sums + other.sums,
            self.missing + other.missing,
            self.sentinels + other.sentinels,
            self.dates + other.dates,
            self.calendar + other.calendar,
        )

    def transformer(self) -> DerivedFeatures:
        return DerivedFeatures(self.sums, self.missing, self.sentinels, self.dates, self.calendar)

    def describe(self) -> list[str]:
        return (
            [f"{n} = {' + '.join(p)}" for n, p in self.sums]
            + [f"{n} = 1 where {c} is missing" for n, c in self.missing]
            + [f"{n} = 1 where {c} == {v:g}" for n, c, v in self.sentinels]
            + [
                f"{n} = day of the year {m} starts on" + (f" + {d} - 1" if d else "")
                for n, m, d, _ in self.dates
            ]
            + [
                f"{n} = {c} - {o}" if op == "diff" else f"{n} = {op} of {c}"
                for n, op, c, o in self.calendar
            ]
        )


class DerivedFeatures(TransformerMixin, BaseEstimator):
    """Appends the derived columns as float32, computed as the ONNX graph does:
    sums added left to right, indicators from float32 comparisons, dates from
    a lookup of the exact month values seen in training (others are missing)."""

    def __init__(self, sums=(), missing=(), sentinels=(), dates=(), calendar=()):
        self.sums = sums
        self.missing = missing
        self.sentinels = sentinels
        self.dates = dates
        self.calendar = calendar

    def fit(self, X, y=None):
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X.copy()
        for name, parts in self.sums:
            total = X[parts[0]].to_numpy(dtype=np.float32).copy()
            for part in parts[1:]:
                total = total + X[part].to_numpy(dtype=np.float32)
            X[name] = total
        for name, column in self.missing:
            X[name] = np.isnan(X[column].to_numpy(dtype=np.float32)).astype(np.float32)
        for name, column, value in self.sentinels:
            values = X[column].to_numpy(dtype=np.float32)
            X[name] = (values == np.float32(value)).astype(np.float32)
        for name, month, day, lookup in self.dates:
            values = X[month].map(dict(lookup)).to_numpy(dtype=np.float32, na_value=np.nan)
            if day is not None:
                values = values + X[day].to_numpy(dtype=np.float32)
            X[name] = values
        return add_calendar(X, getattr(self, "calendar", ()))


def _words(name: str) -> set[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return {w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if len(w) > 1}


def _strength(x: np.ndarray, y: np.ndarray) -> float:
    """How well one column ranks the classes on its own: |ROC AUC - 0.5|."""
    x = np.asarray(x, dtype=np.float64)
    ok = ~np.isnan(x)
    if ok.sum() < 10 or len(np.unique(y[ok])) < 2 or np.ptp(x[ok]) == 0:
        return 0.0
    return abs(float(roc_auc_score(y[ok], x[ok])) - 0.5)


def _fresh(name: str, taken: set[str]) -> str:
    candidate, k = name, 2
    while candidate in taken:
        candidate, k = f"{name} ({k})", k + 1
    taken.add(candidate)
    return candidate


def _month_starts(values: pd.Series) -> tuple[tuple[str, float], ...] | None:
    """Each value's first day of the year (1 to 335) when every value is a month name."""
    seen = sorted({str(v) for v in values.unique()} - {MISSING_CATEGORY})
    months = {v: MONTH_NUMBER.get(v.strip().lower()) for v in seen}
    if None in months.values() or len(set(months.values())) < MONTHS_MIN_DISTINCT:
        return None
    return tuple((v, float(DAYS_BEFORE_MONTH[k] + 1)) for v, k in months.items())


def _is_day_of_month(name: str, values: np.ndarray) -> bool:
    """A column named with "day" holding whole numbers 1-31, but for a few
    stray codes (such as 99 for unknown), which then just land past the month."""
    values = values[~np.isnan(values)]
    days = values[(values == np.round(values)) & (values >= 1) & (values <= 31)]
    return (
        "day" in _words(name)
        and len(values) > 0
        and len(days) >= DAY_MIN_SHARE * len(values)
        and len(np.unique(days)) >= DAY_MIN_DISTINCT
    )


def _dates(X, numeric, categorical, f32, names) -> tuple:
    days = [c for c in numeric if _is_day_of_month(c, f32[c])]
    dates = []
    for month in categorical:
        starts = _month_starts(X[month])
        if starts is None:
            continue
        # The day column that shares most words with the month's ("contact
        # month" with "contact day"); the first in column order on a tie.
        day = max(days, key=lambda d: len(_words(d) & _words(month)), default=None)
        if day is None:
            dates.append((_fresh(f"{month} as day of year", names), month, None, starts))
        else:
            # First day of the month + day - 1: January 1st is day 1.
            shifted = tuple((v, start - 1.0) for v, start in starts)
            dates.append((_fresh(f"{month} {day} as day of year", names), month, day, shifted))
    return tuple(dates)


def discover(
    X: pd.DataFrame,
    y: np.ndarray,
    numeric: list[str],
    taken: list[str],
    categorical: list[str] = (),
    date_columns: list[tuple[str, str]] = (),
) -> DerivedSpec:
    """Candidate derived features from the training split alone (never the test split).

    A sum is kept when it ranks the classes better on its own than every one of
    its parts does; the search then decides by CV whether a model uses them.
    """
    names = set(taken)
    y = np.asarray(y)
    f32 = {c: X[c].to_numpy(dtype=np.float32) for c in numeric}
    groups: dict[tuple[str, ...], str] = {}
    for word in sorted({w for c in numeric for w in _words(c)}):
        members = tuple(c for c in numeric if word in _words(c))
        if 2 <= len(members) <= MAX_GROUP and members not in groups:
            groups[members] = word
    scored = []
    for members, word in groups.items():
        total = f32[members[0]].copy()
        for c in members[1:]:
            total = total + f32[c]
        gain = _strength(total, y) - max(_strength(f32[c], y) for c in members)
        if gain > 0.005:
            scored.append((gain, word, members))
    scored.sort(key=lambda t: -t[0])
    sums = tuple(
        (_fresh(f"sum of {word}", names), members) for _, word, members in scored[:MAX_SUMS]
    )
    missing = tuple(
        (_fresh(f"{c} is missing", names), c)
        for c in numeric
        if 0 < np.isnan(f32[c]).sum() < len(f32[c])
    )
    sentinels = []
    for c in numeric:
        values = f32[c][~np.isnan(f32[c])]
        if len(values) == 0:
            continue
        uniq, counts = np.unique(values, return_counts=True)
        if len(uniq) < SENTINEL_MIN_DISTINCT:
            continue
        mode = uniq[int(np.argmax(counts))]
        share = counts.max() / len(values)
        if share >= SENTINEL_MIN_SHARE and mode in (uniq[0], uniq[-1]):
            sentinels.append((_fresh(f"{c} is {float(mode):g}", names), c, float(mode)))
    dates = _dates(X, numeric, list(categorical), f32, names)
    calendar = date_candidates(X, list(date_columns), names)  # (column, format) of dates
    return DerivedSpec(sums, missing, tuple(sentinels), dates, calendar)
