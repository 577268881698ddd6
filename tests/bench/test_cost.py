"""The cost model's arithmetic against rows worked out by hand, and `make cost`'s
script on a copy of the benchmark figures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import cost
from scripts import cost as cost_script

ROOT = Path(__file__).resolve().parents[2]

# Round figures, so that every expected value below is a short hand calculation.
M = cost.Measured(
    handler_ms=0.25, init_ms=200, mb_per_s=10, rows_per_s=100_000, api_rss_mb=100, batch_rss_mb=170
)
GB_1769 = 1769 / 1024  # 1.727539 GB


def test_lambda_api_at_one_vcpu():
    # 1M requests at 1769 MB, 1 % cold: 0.25 ms bills 1 ms; INIT 200 ms.
    # request 2e-7 + 1.727539 GB * 0.001 s * 1.66667e-5 = 2.87924e-8
    # + 0.01 * 1.727539 * 0.200 * 1.66667e-5 = 5.75847e-8  ->  2.863771e-7 a request
    assert cost.lambda_api(M, 1e6, 1769, "x86_64", 0.01) == pytest.approx(0.2863771, rel=1e-6)


def test_lambda_api_below_one_vcpu_is_slower_in_proportion():
    # 512 MB: CPU share 512/1769, handler 0.8638 ms bills 1 ms, INIT 691.02 ms bills 692.
    # 2e-7 + 0.5 * 0.001 * 1.66667e-5 + 0.01 * 0.5 * 0.692 * 1.66667e-5 = 2.6600013e-7
    assert cost.api_ms(M, 512) == pytest.approx(0.86377, rel=1e-4)
    assert cost.lambda_api(M, 1e6, 512, "x86_64", 0.01) == pytest.approx(0.2660001, rel=1e-6)
    # arm64: the same, at 1.33334e-5 a GB-second
    arm = 2e-7 + 0.5 * 0.001 * 1.33334e-5 + 0.01 * 0.5 * 0.692 * 1.33334e-5
    assert cost.lambda_api(M, 1e6, 512, "arm64", 0.01) == pytest.approx(arm * 1e6, rel=1e-9)


def test_lambda_batch():
    # 100 GB at 10 MB/s on one vCPU: 10,000 s; 1,000 files of 100 MB, one INIT each.
    # (1.727539 * 10000 + 1000 * 1.727539 * 0.2) GB-s * 1.66667e-5 = 0.2936822, + 1000 * 2e-7
    assert cost.lambda_batch(M, 100, 1769, "x86_64") == pytest.approx(0.2938822, rel=1e-6)
    # Below one vCPU the scoring GB-seconds are the same; only the INITs (billed per file) grow.
    assert cost.batch_seconds(M, 100, 512) == pytest.approx(10_000 * 1769 / 512)


def test_sagemaker_api():
    # 1 GB: 1 ms billed * 2e-5 = 2e-8, + 1.5 KB * 0.016 $/GB = 2.4e-8  ->  4.4e-8 a request
    assert cost.sagemaker_api(M, 1e6) == pytest.approx(0.044, rel=1e-9)


def test_always_on_options():
    # Fargate 0.25 vCPU / 0.5 GB: (0.25 * 0.04048 + 0.5 * 0.004445) * 730 = 9.010025 a month;
    # one task serves 0.25 * 4000/s * 2,628,000 s * 0.5 = 1.314e9 requests a month.
    assert cost.fargate_api(M, 1e6) == pytest.approx(9.010025)
    assert cost.fargate_api(M, 3e9) == pytest.approx(3 * 9.010025)
    # Fargate 1 vCPU / 2 GB: (0.04048 + 2 * 0.004445) * 730 = 36.0401
    assert cost.fargate_batch(M, 10_000) == pytest.approx(36.0401)
    # Managed Instances: 3 * 0.0816 * 730 * 1.15 = 205.5096, + the request fee
    assert cost.lmi_api(M, 1e6) == pytest.approx(205.5096 + 0.2)
    assert cost.lmi_batch(M, 100) == pytest.approx(205.5096 + 1000 * 2e-7)


def test_break_even_and_memory_sizes():
    assert cost.break_even(9.010025, 2.863771e-7) == pytest.approx(31.4622e6, rel=1e-5)
    # 1.5 x 170 MB = 255 MB fits 256; a whole vCPU needs 1769
    assert cost.fits(256, 170) and not cost.fits(256, 171)
    assert cost.deploy_memory(170) == 1769
    assert cost.deploy_memory(1200) == 2048


def test_formatting():
    assert cost.money(0.00271) == "$0.0027"
    assert cost.money(27.094) == "$27.09"
    assert cost.money(1234.5) == "$1,234"
    assert cost.count(30.9e6) == "30.9M"
    assert cost.count(10_000) == "10k"


def test_make_cost_writes_the_page(tmp_path):
    bench = tmp_path / "benchmarks.json"
    shutil.copy(ROOT / "docs" / "benchmarks.json", bench)
    out, arm64 = tmp_path / "cost.md", tmp_path / "arm64.json"
    arm64.write_text(json.dumps({"passed": False, "date": "2026-12-03", "onnxruntime": "1.32.0"}))
    assert cost_script.main(["--bench", str(bench), "--arm64", str(arm64), "--out", str(out)]) == 0
    page = out.read_text()
    assert "Lambda arm64" not in page and "arm64 is left out" in page
    figures = cost_script.measured(json.loads(bench.read_text()))
    assert f"| 100M | {cost.money(cost.lambda_api(figures, 1e8, 1769, 'x86_64', 0.01))} |" in page
    arm64.write_text(json.dumps({"passed": True, "date": "2026-12-03", "onnxruntime": "1.32.0"}))
    assert cost_script.main(["--bench", str(bench), "--arm64", str(arm64), "--out", str(out)]) == 0
    assert "Lambda arm64" in out.read_text()
    for price in cost.PRICES.values():
        assert price.source in out.read_text() and price.read


def test_missing_figures_are_one_line(tmp_path, capsys):
    assert cost_script.main(["--bench", str(tmp_path / "none.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "make bench" in err
