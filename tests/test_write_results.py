"""`make results` rewrites docs/results.md, but not the section `make bench-quality` owns."""

import json

from scripts import bench_quality, write_results


def _page(tmp_path, run, section=""):
    page = tmp_path / "results.md"
    page.write_text("# an older page\n\n" + section)
    names = ("--marketing", "--telecom", "--marketing-full", "--telecom-full")
    args = [a for name in names for a in (name, run)]
    assert write_results.main([*args, "--out", str(page)]) == 0
    return page.read_text()


def test_rewriting_the_results_page_keeps_the_bench_quality_section(tmp_path, model_path):
    section = f"{bench_quality.BEGIN}\n| tool | ROC AUC |\n| FLAML | 0.9 |\n{bench_quality.END}\n"
    text = _page(tmp_path, str(model_path.parent), section)
    assert "an older page" not in text and "# Results" in text
    assert text.count(bench_quality.BEGIN) == 1 and "| FLAML | 0.9 |" in text


def test_each_bar_is_judged_against_the_runs_test_figures(tmp_path, model_path):
    run = model_path.parent
    metrics = json.loads((run / "metrics.json").read_text())
    text = _page(tmp_path, str(run))
    picked = metrics["selection"]["picked"]
    roc = f"{metrics['roc_auc']:.3f}"
    verdict = "met" if metrics["roc_auc"] >= 0.92 else "**missed**"
    assert f"| telecom | {picked} | {metrics['trials']} | {roc} (bar ≥ 0.92) {verdict} |" in text
    verdict = "met" if metrics["f1"] >= 0.42 else "**missed**"
    assert f"{metrics['f1']:.3f} (bar ≥ 0.42) {verdict}" in text
    # Every candidate of the leaderboard gets a row, the selected one marked.
    assert text.count(f"| **→** | {picked} |") == 2
    info = json.loads((run / "run.json").read_text())
    wall = info["elapsed_seconds"] + info.get("report_seconds", 0.0)
    assert f"| {wall:.0f} |" in text  # the telecom row's wall time, report included
