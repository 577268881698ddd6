"""`make results` rewrites docs/results.md, but not the section `make bench-quality` owns."""

from scripts import bench_quality, write_results


def test_rewriting_the_results_page_keeps_the_bench_quality_section(tmp_path, model_path):
    run = str(model_path.parent)
    page = tmp_path / "results.md"
    section = f"{bench_quality.BEGIN}\n| tool | ROC AUC |\n| FLAML | 0.9 |\n{bench_quality.END}\n"
    page.write_text("# an older page\n\n" + section)
    names = ("--marketing", "--telecom", "--marketing-quick", "--telecom-quick")
    args = [a for name in names for a in (name, run)]
    assert write_results.main([*args, "--telecom-quick-nosum", run, "--out", str(page)]) == 0
    text = page.read_text()
    assert "an older page" not in text and "# Results" in text
    assert text.count(bench_quality.BEGIN) == 1 and "| FLAML | 0.9 |" in text
