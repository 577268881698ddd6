"""Cold start under the real runtime: without the emulator the report says why
(the measured case runs in tests/bench/test_suite.py)."""

from bench import cold_start, report
from scripts import invoke_rie


def test_without_the_emulator_the_report_says_why_and_claims_no_target(monkeypatch, tmp_path):
    def missing(arch=None):
        raise invoke_rie.RieError("no aws-lambda-rie-x86_64 in .venv-tools (run `make tools`)")

    monkeypatch.setattr(invoke_rie, "rie_binary", missing)
    figures = {"cold_start_rie": cold_start.rie_cold_start(tmp_path, runs=1)}
    assert figures["cold_start_rie"] == {
        "skipped": "no aws-lambda-rie-x86_64 in .venv-tools (run `make tools`)"
    }
    text = "\n".join(cold_start.rie_markdown(figures["cold_start_rie"]))
    assert "not measured (no aws-lambda-rie-x86_64 in .venv-tools" in text
    assert report.targets_markdown(figures) == [
        "## Targets",
        "",
        "| target | measured | |",
        "|---|---|---|",
        "",
    ]
