"""One table of targets: the report's target rows and the JSON checks come from it."""

import pytest

from bench import report, targets


def figures(p50_us=120.0, speedup=40.0, rie=None):
    return {
        "single_record": {"winner": {"handler": {"p50_us": p50_us}, "speedup_vs_pandas": speedup}},
        "batch": {"full": {"throughput_ratio": 2.5, "memory_ratio": 0.09}},
        "cold_start": {"handler": {"median_ms": 145.0}},
        "cold_start_rie": rie if rie is not None else {"tracing_on": {"median_ms": 217.0}},
        "size": {"serving_mb": 190.0},
    }


@pytest.mark.parametrize(
    ("name", "value", "met"),
    [
        ("single_record_p50", 150, True),
        ("single_record_p50", 150.5, False),
        ("speedup_vs_pandas", 30, True),
        ("speedup_vs_pandas", 29.9, False),
        ("batch_throughput", 3.0, True),
        ("batch_throughput", 2.99, False),
        ("batch_memory", 0.2, True),
        ("batch_memory", 0.21, False),
        ("memory_flat", 2.0, True),
        ("memory_flat", 2.01, False),
    ],
)
def test_a_bound_is_met_on_its_own_side_only(name, value, met):
    assert targets.BY_NAME[name].met(value) is met


def test_the_report_rows_and_the_checks_agree():
    f = figures(p50_us=194.0)
    checks = {c["name"]: c for c in targets.check(f)}
    assert [t.name for t, _ in targets.measured(f)] == [t.name for t in targets.TARGETS]
    assert checks["single_record_p50"]["met"] is False and checks["cold_start"]["met"] is True
    rows = report.targets_markdown(f)
    assert "| single-record p50 ≤ 150 µs | 194 µs | **missed** |" in rows
    assert "| ≥ 30× faster than pandas + scikit-learn | 40× | met |" in rows
    assert "| batch rows/s ≥ 3× pandas (one thread each) | 2.50× | **missed** |" in rows
    assert "| batch peak memory ≤ 20 % of pandas | 9% | met |" in rows
    assert (
        "| cold start under the real runtime, tracing on ≤ 150 ms | 217 ms | **missed** |" in rows
    )
    assert "| serving install ≤ 350 MB | 190 MB | met |" in rows


def test_a_section_not_measured_has_no_row_and_no_check():
    f = figures(rie={"skipped": "no aws-lambda-rie-x86_64 in .venv-tools"})
    assert "cold_start_rie" not in {c["name"] for c in targets.check(f)}
    assert not any("real runtime" in row for row in report.targets_markdown(f))
