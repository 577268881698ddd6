"""scripts/compare_releases.py: two checkouts, several split seeds, one table."""

import subprocess
import sys

from scripts.compare_releases import summary
from tests.conftest import ROOT


def _figures(cv, best):
    return {"cv": cv, "best_cv": best, "trials": 10, "test_roc": 0.8, "test_pr": 0.3}


def test_the_summary_gives_each_seed_then_the_means_and_the_per_seed_differences():
    rows = [
        ("marketing", 1, {"base": _figures(0.34, 0.35), "head": _figures(0.36, 0.36)}),
        ("marketing", 2, {"base": _figures(0.30, 0.31), "head": _figures(0.29, 0.30)}),
    ]
    lines = summary(rows)
    assert "| marketing | 1 | head | 0.3600 | 0.3600 | 10 | 0.8000 | 0.3000 |" in lines
    assert "| marketing | base | 0.3200 | 0.3300 | 0.8000 | 0.3000 | 2 |" in lines
    assert "| marketing | head | 0.3250 | 0.3300 | 0.8000 | 0.3000 | 2 |" in lines
    assert any("+0.0200, -0.0100 (mean +0.0050)" in line for line in lines)


def test_a_bad_seed_list_or_dataset_is_a_usage_error():
    for flags, message in (
        (["--seeds", "one"], "--seeds 'one'"),
        (["--datasets", "iris"], "--datasets: unknown ['iris']"),
    ):
        proc = subprocess.run(
            [sys.executable, "scripts/compare_releases.py", "--base", "HEAD", *flags],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
