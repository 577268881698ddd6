"""Derived features found without the user's help, computed as the graph computes them."""

import numpy as np
import pandas as pd

from contract.cells import MISSING_CATEGORY
from train.features import DerivedSpec, discover

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
FULL = ["January", "FEBRUARY", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December"]  # fmt: skip


def calendar_frame(n=400, seed=0, day_name="day"):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "month": rng.choice(MONTHS, n).astype(object),
            day_name: rng.integers(1, 32, n).astype(float),
            "total day calls": rng.integers(0, 160, n).astype(float),
            "plan": rng.choice(["mar", "may", "basic"], n).astype(object),
        }
    )
    return frame, rng.integers(0, 2, n)


def found(frame, y):
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    categorical = [c for c in frame.columns if c not in numeric]
    return discover(frame, y, numeric, list(frame.columns), categorical)


def test_month_names_and_a_day_of_month_become_the_day_of_the_year():
    frame, y = calendar_frame()
    spec = found(frame, y)
    assert [(n, m, d) for n, m, d, _ in spec.dates] == [
        ("month day as day of year", "month", "day")
    ]
    rows = pd.DataFrame(
        {
            "month": ["jan", "may", "dec", MISSING_CATEGORY, "never seen"],
            "day": [1.0, 5.0, 31.0, 3.0, 3.0],
            "total day calls": [0.0] * 5,
            "plan": ["basic"] * 5,
        }
    )
    out = spec.transformer().transform(rows)["month day as day of year"].to_numpy()
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[:3], [1, 125, 365])
    assert np.isnan(out[3:]).all()  # missing or unseen months are missing, as in the graph


def test_month_names_alone_give_the_day_their_month_starts_on():
    frame, y = calendar_frame(day_name="weekday index")  # not a day of the month by name
    frame["weekday index"] = frame["weekday index"] % 7 + 1
    spec = found(frame, y)
    assert [(m, d) for _, m, d, _ in spec.dates] == [("month", None)]
    starts = dict(spec.dates[0][3])
    assert starts["jan"] == 1 and starts["mar"] == 60 and starts["dec"] == 335


def test_full_month_names_in_any_case_are_recognised():
    frame, y = calendar_frame()
    frame["month"] = frame["month"].map(dict(zip(MONTHS, FULL, strict=True)))
    starts = dict(found(frame, y).dates[0][3])
    assert starts["FEBRUARY"] == 31 and starts["December"] == 334  # day column present: start - 1


def test_a_few_words_that_look_like_months_are_not_a_calendar():
    frame, y = calendar_frame()
    spec = found(frame.drop(columns=["month"]), y)
    assert spec.dates == ()  # "plan" holds mar/may/basic: not month names throughout


def test_a_day_column_may_hold_a_few_stray_codes_but_counts_are_not_days():
    frame, y = calendar_frame()
    frame.loc[:2, "day"] = 99.0  # an "unknown" code
    spec = found(frame, y)
    assert spec.dates[0][2] == "day"
    assert not found(frame.drop(columns=["day"]), y).dates[0][2]  # "total day calls" is a count


def test_the_spec_describes_and_merges_dates():
    frame, y = calendar_frame()
    spec = found(frame, y)
    assert "month day as day of year = day of the year month starts on + day - 1" in spec.describe()
    merged = DerivedSpec(sums=(("t", ("day", "total day calls")),)).merged(spec)
    assert merged.names[0] == "t" and merged.names[-1] == "month day as day of year"
    assert merged.transformer().dates == spec.dates
