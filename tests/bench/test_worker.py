"""The batch worker's command line: `python -m bench.worker KIND RUN CSV SINK THREADS`."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize(
    "args",
    [[], ["spark", "run", "in.csv", "out", "1"], ["handler", "run", "in.csv", "out", "one"]],
)
def test_a_wrong_call_gets_the_usage_line_and_exit_2(args):
    proc = subprocess.run(
        [sys.executable, "-m", "bench.worker", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.strip() == "usage: python -m bench.worker {handler|pandas} RUN CSV SINK THREADS"
    )
