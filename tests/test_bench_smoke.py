"""The serving benchmark keeps working (tiny sizes; its timings are printed, never asserted)."""

import json
import subprocess
import sys

from tests.conftest import ROOT, make_frame


def test_bench_serving_runs_and_reports_every_figure(model_path, tmp_path):
    data = tmp_path / "data.csv"
    make_frame(n=300, seed=4).to_csv(data, index=False)
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable,
            "scripts/bench_serving.py",
            "--run",
            str(model_path.parent),
            "--data",
            str(data),
            "--rows",
            "3000",
            "--requests",
            "50",
            "--cold-runs",
            "1",
            "--json",
            str(out),
            "--markdown",
            str(tmp_path / "bench.md"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["batch"]["handler"]["rows"] == figures["batch"]["pandas"]["rows"] == 3000
    assert figures["single_record"]["handler"]["p50_us"] > 0
    assert figures["cold_start"]["median_ms"] > 0
    assert "rows/s" in proc.stdout
    report = (tmp_path / "bench.md").read_text()
    assert "Single-record" in report and "Cold start" in report
