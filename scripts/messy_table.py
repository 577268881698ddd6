"""Write a messy CRM export with a known signal, as people's tables look.

`python scripts/messy_table.py out.csv [--rows 20000] [--seed 0]`

Columns: customer_id (unique), signup_date (ISO, 2019-2023), last_seen
(d/m/Y), monthly_spend ("$1,024.50"), city (~3,000 values, a few large),
zip (~5,000), autopay (TRUE/FALSE), note (free text), contract ("36 months")
and the target churned (yes/no, about 15% yes). Churn rises with short
tenure (last_seen - signup_date), high spend, no autopay, a signup in
November or December, and a per-city effect; zip carries a weaker one.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta

import numpy as np
import pandas as pd

WORDS = [
    "called",
    "about",
    "billing",
    "asked",
    "for",
    "a",
    "discount",
    "happy",
    "with",
    "service",
    "wants",
    "to",
    "cancel",
    "moved",
    "recently",
    "upgraded",
    "plan",
    "complained",
    "slow",
    "support",
    "renewal",
    "reminder",
    "sent",
    "paid",
    "late",
    "referred",
    "a",
    "friend",
    "no",
    "answer",
    "left",
    "voicemail",
]


def _zipf_codes(rng, n: int, levels: int, a: float = 1.1) -> np.ndarray:
    weights = 1.0 / np.arange(1, levels + 1) ** a
    return rng.choice(levels, size=n, p=weights / weights.sum())


def messy_frame(rows: int = 20_000, seed: int = 0) -> pd.DataFrame:
    """The table as strings, and the churn label drawn from a known logit."""
    rng = np.random.default_rng(seed)
    start = date(2019, 1, 1).toordinal()
    signup = start + rng.integers(0, 5 * 365, rows)
    tenure = rng.gamma(2.0, 150.0, rows).astype(int)
    last = np.minimum(signup + tenure, date(2024, 6, 30).toordinal())
    spend = np.round(rng.lognormal(4.0, 0.9, rows), 2)
    city = _zipf_codes(rng, rows, 3000)
    zips = _zipf_codes(rng, rows, 5000, a=0.9)
    city_effect = rng.normal(0, 0.9, 3000)
    zip_effect = rng.normal(0, 0.4, 5000)
    autopay = rng.random(rows) < 0.55
    months = np.array([date.fromordinal(int(d)).month for d in signup])
    term = rng.choice([12, 24, 36], rows)
    logit = (
        -1.0
        - 0.9 * np.log1p(last - signup) / np.log(400)
        + 0.45 * (np.log(spend) - 4.0)
        - 0.7 * autopay
        + 0.6 * np.isin(months, (11, 12))
        + city_effect[city]
        + zip_effect[zips]
        - 0.01 * (term - 24)
    )
    y = rng.random(rows) < 1 / (1 + np.exp(-logit))

    def fmt_day(d, pattern):
        return (date(1970, 1, 1) + timedelta(int(d) - date(1970, 1, 1).toordinal())).strftime(
            pattern
        )

    frame = pd.DataFrame(
        {
            "customer_id": [f"C{100000 + k}" for k in rng.permutation(rows)],
            "signup_date": [fmt_day(d, "%Y-%m-%d") for d in signup],
            "last_seen": [fmt_day(d, "%d/%m/%Y") for d in last],
            "monthly_spend": [f"${v:,.2f}" for v in spend],
            "city": [f"City {c:04d}" for c in city],
            "zip": [f"Z{z:05d}" for z in zips],
            "autopay": np.where(autopay, "TRUE", "FALSE"),
            "contract": [f"{t} months" for t in term],
            "note": [
                " ".join(rng.choice(WORDS, size=rng.integers(6, 14))) + f" #{k}"
                for k in range(rows)
            ],
            "churned": np.where(y, "yes", "no"),
        }
    )
    blank = rng.random(rows) < 0.03
    frame.loc[blank, "last_seen"] = ""
    return frame


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", help="CSV file to write")
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    messy_frame(args.rows, args.seed).to_csv(args.out, index=False)
    print(f"wrote {args.out} ({args.rows} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
