"""Every run writes a self-contained report with every section."""

import re

from tests.conftest import run_train_cli

SECTIONS = ["Data overview", "Leaderboard", "Curves", "Feature importance", "Model card"]
FIGURES = [
    "class_balance",
    "numeric_by_class",
    "categorical_rates",
    "correlation",
    "roc_pr",
    "confusion",
    "threshold",
    "reliability",
    "importance",
]


def test_run_writes_a_self_contained_report(csv_path, tmp_path):
    out = tmp_path / "run"
    proc = run_train_cli(
        "--data",
        csv_path,
        "--target",
        "y",
        "--models",
        "logreg,xgboost",
        "--samplers",
        "none,undersample",
        "--folds",
        "3",
        "--out",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    page = (out / "report.html").read_text()
    for section in SECTIONS:
        assert f"<h2>{section}</h2>" in page
    # self-contained: every image inline, no external resources at all
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert page.count('src="data:image/png;base64,') == len(FIGURES)
    assert 'class="winner"' in page and "bootstrap CI" in page
    markdown = (out / "report.md").read_text()
    for name in FIGURES:
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
        assert f"(figures/{name}.png)" in markdown
    for section in SECTIONS:
        assert f"## {section}" in markdown


def test_no_report_flag_skips_it(csv_path, tmp_path):
    out = tmp_path / "run"
    proc = run_train_cli(
        "--data",
        csv_path,
        "--target",
        "y",
        "--models",
        "logreg",
        "--samplers",
        "none",
        "--folds",
        "2",
        "--out",
        out,
        "--no-report",
    )
    assert proc.returncode == 0, proc.stderr
    assert not (out / "report.html").exists()
