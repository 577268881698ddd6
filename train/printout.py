"""What `python -m train` prints once the run folder is written."""

from __future__ import annotations

import math
from pathlib import Path

WIDE = 24  # the candidate column: learner/strategy#trial


def format_leaderboard(rows: list[dict], metric: str) -> str:
    from train.metrics import SELECTION

    shown = [m for m in SELECTION if m != "balanced_accuracy"]  # what a terminal line holds
    cols = (
        [("candidate", "name"), ("strategy", "strategy")]
        + [(m, m) for m in shown]
        + [("fit_s", "fit_seconds")]
    )
    lines = []
    header = ["  "] + [
        f"{name:<{WIDE if i == 0 else 13}}" if i < 2 else f"{name:>14}"
        for i, (name, _) in enumerate(cols)
    ]
    header.append(f"{'us/row':>10}")
    header.append(f"{'us/record':>10}")
    lines.append(" ".join(header))
    sampled = len({row.get("rows") for row in rows}) > 1
    for i, row in enumerate(rows):
        if sampled and (i == 0 or row["rows"] != rows[i - 1]["rows"]):
            lines.append(f"   -- cross-validated on {row['rows']:,} rows --")
        mark = "* " if row["selected"] else "  "
        cells = [mark, f"{row['name']:<{WIDE}}", f"{row['strategy']:<13}"]
        if row["error"]:
            cells.append(f"failed: {row['error'][:80]}")
        else:
            for _, key in cols[2:-1]:
                mean, std = row[f"{key}_mean"], row[f"{key}_std"]
                cells.append(f"{mean:>7.3f} ±{std:5.3f}" if not math.isnan(mean) else f"{'-':>14}")
            cells.append(f"{row['fit_seconds']:>14.1f}")
            us = row.get("us_per_row", float("nan"))
            cells.append(f"{us:>10.2f}" if not math.isnan(us) else f"{'-':>10}")
            us = row.get("us_per_record", float("nan"))
            cells.append(f"{us:>10.1f}" if not math.isnan(us) else f"{'-':>10}")
        lines.append(" ".join(cells))
    lines.append(
        f"(CV mean ± std over folds, each pair's best trial; * = selected by {metric}; "
        "us/row = onnxruntime µs per row in a batch, us/record = for one record alone)"
    )
    return "\n".join(lines)


def summary(result, metrics: dict, out: Path, report: bool) -> str:
    """The lines after the leaderboard: the search, the pick and the test scores."""
    cal = result.calibration_report
    cal_text = (
        f"calibrated (Brier on test {cal['test_brier_uncalibrated']:.4f} -> {cal['test_brier']:.4f})"
        if cal["applied"]
        else "not calibrated"
    )
    sel = metrics["selection"]
    lines = [
        f"\nsearch: {metrics['trials']} trials ({metrics['trials_complete']} complete, "
        f"{metrics['trials_pruned']} pruned, {metrics['trials_failed']} failed) in "
        f"{metrics['search_seconds']:.0f} s; picked {sel['picked']}: {sel['reason']}"
    ]
    if len(result.rungs) > 1:
        lines.append(
            f"searched on samples of {', '.join(f'{r:,}' for r in result.rungs)} rows; "
            f"compared on {result.winner.rows:,}; refit on all {result.n_train:,} in "
            f"{result.refit_seconds:.0f} s (predicted {result.refit_predicted_seconds:.0f} s)"
        )
    if result.model.members:
        lines.append(
            "ensemble: " + ", ".join(f"{m.name} x{m.weight:.2f}" for m in result.model.members)
        )
    lines.append(
        f"selected: {metrics['model']} + {metrics['sampler']}, threshold "
        f"{metrics['threshold']:.4f} ({metrics['threshold_objective']}), {cal_text}\n"
        f"test split ({metrics['n_test']} rows, evaluated once): ROC AUC {metrics['roc_auc']:.3f}"
        f"  PR AUC {metrics['pr_auc']:.3f}  F1 {metrics['f1']:.3f}  precision "
        f"{metrics['precision']:.3f}  recall {metrics['recall']:.3f}  MCC {metrics['mcc']:.3f}\n"
        f"wrote {out}/" + (f" (report: {out}/report.html)" if report else "")
    )
    return "\n".join(lines)
