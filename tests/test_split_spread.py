"""scripts/split_spread.py: the same reproducible search on several split seeds."""

import subprocess
import sys

from tests.conftest import ROOT


def test_each_split_seed_gets_one_search_and_the_spread_is_printed(csv_path):
    proc = subprocess.run(
        [sys.executable, "scripts/split_spread.py", "--data", str(csv_path), "--target", "y"]
        + ["--trials", "1", "--seeds", "1-2,7"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    assert [line.split()[1] for line in lines[:3]] == ["1", "2", "7"]
    assert lines[-1].startswith("3 splits: test ROC AUC ")


def test_a_bad_seed_list_is_a_usage_error(csv_path):
    proc = subprocess.run(
        [sys.executable, "scripts/split_spread.py", "--data", str(csv_path), "--target", "y"]
        + ["--seeds", "one"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2 and "--seeds 'one'" in proc.stderr
