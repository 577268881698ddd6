"""Features from date columns, computed the way the ONNX graph computes them.

A date column reaches the model as days since 1970-01-01 (contract/kinds.py),
which is already "days since a fixed reference". From it come the calendar
parts a tree cannot rebuild from a day count (month, day of the week, day of
the year) and, for every pair of date columns, the difference in days
(tenure = last_seen - signup_date). The parts use whole-number arithmetic on
the day number (the civil-from-days algorithm), so export/dates.py writes
the same steps as integer Div/Mod nodes and the two agree exactly. Like the
other derived features, the search keeps them only when CV says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contract.kinds import CIVIL_SHIFT, DAY_HI, DAY_LO

# Day numbers are clipped to years 1-9999 first: the integer steps assume a
# non-negative shifted day (z below), as Div truncating and flooring agree there.
LO_DAY, HI_DAY, SHIFT = DAY_LO, DAY_HI, CIVIL_SHIFT
PARTS = ("month", "weekday", "yearday")
MONTHLY_FORMATS = ("%Y-%m", "%b-%Y", "%b %Y")  # only the month is information there


def _whole_days(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int64 days, missing mask) from float32 day numbers, as the graph does."""
    values = np.asarray(values, dtype=np.float32)
    missing = np.isnan(values)
    clipped = np.clip(np.where(missing, np.float32(0), values), LO_DAY, HI_DAY)
    return np.floor(clipped).astype(np.int64), missing


def civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(year, month) of int64 day numbers (days since 1970-01-01)."""
    z = days + SHIFT
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month


def january_first(year: np.ndarray) -> np.ndarray:
    """Day number of January 1st of each year."""
    yy = year - 1  # January counts in the previous March-based year
    era = yy // 400
    yoe = yy - era * 400
    doe = 365 * yoe + yoe // 4 - yoe // 100 + 306
    return era * 146097 + doe - SHIFT


def part(values: np.ndarray, which: str) -> np.ndarray:
    """One calendar part as float32, NaN where the date is missing."""
    days, missing = _whole_days(values)
    if which == "weekday":  # Monday = 0; 1970-01-01 was a Thursday
        out = (days + 3) % 7
    else:
        year, month = civil(days)
        out = month if which == "month" else days - january_first(year) + 1
    return np.where(missing, np.float32(np.nan), out.astype(np.float32))


def add_calendar(X: pd.DataFrame, calendar) -> pd.DataFrame:
    """Appends each (name, op, column, other) of `calendar`: a part of `column`,
    or column - other in float32 for op 'diff'."""
    for name, op, column, other in calendar:
        values = X[column].to_numpy(dtype=np.float32)
        if op == "diff":
            X[name] = values - X[other].to_numpy(dtype=np.float32)
        else:
            X[name] = part(values, op)
    return X


def candidates(X: pd.DataFrame, dates: list[tuple[str, str]], taken: set[str]) -> tuple:
    """Calendar parts of each (date column, format) and the difference of every
    pair (the later column minus the earlier, by median), with fresh names."""
    from train.features import _fresh

    out = []
    for column, fmt in dates:
        parts = ("month",) if fmt in MONTHLY_FORMATS else PARTS
        for which in parts:
            out.append((_fresh(f"{column} {which}", taken), which, column, ""))
    medians = {c: float(np.nanmedian(X[c].to_numpy(dtype=np.float64))) for c, _ in dates}
    names = [c for c, _ in dates]
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            late, early = (a, b) if medians[a] >= medians[b] else (b, a)
            out.append((_fresh(f"{late} - {early} (days)", taken), "diff", late, early))
    return tuple(out)
