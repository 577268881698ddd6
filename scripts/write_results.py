"""Write docs/results.md from the default and the larger search on both datasets (`make results`)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.bench_quality import read_section, replace_section  # noqa: E402

REFERENCE_MARKETING = """\
| Model | Accuracy | ROC AUC |
|---|---|---|
| Gradient Boosting | 92.70 % | 0.78 |
| Logistic Regression | 92.75 % | 0.76 |

Its Keras network without resampling: positive-class precision 0.47, recall
0.13 (F1 0.20), accuracy 92.33 %. With resampling it reported, for the
network: SMOTE precision 0.51 / recall 0.52; ADASYN 0.50 / 0.56; SMOTE+Tomek
0.52 / 0.49; class weights 0.48 / 0.41."""

REFERENCE_TELECOM = """\
| Model | Accuracy | macro F1 |
|---|---|---|
| XGBoost | 0.95 | 0.90 |
| LightGBM | 0.95 | 0.89 |
| Decision Tree | 0.94 | 0.86 |
| Gaussian Process | 0.93 | 0.85 |
| MLP | 0.93 | 0.85 |
| Random Forest (depth 5) | 0.90 | 0.73 |
| k-NN | 0.89 | 0.72 |"""


# The quality bars for the default search (`--budget 120`, 2 cores); None: no bar.
BARS = {
    "marketing": [("roc_auc", 0.81), ("pr_auc", 0.36), ("f1", 0.42)],
    "telecom": [("roc_auc", 0.92), ("pr_auc", None), ("f1", 0.84)],
}
MARKETING_WALL_SECONDS = 180


def _json(run: Path, name: str) -> dict:
    return json.loads((run / name).read_text())


def leaderboard_table(run: Path) -> str:
    rows = list(csv.DictReader((run / "leaderboard.csv").open()))
    lines = [
        "| | candidate | features | PR AUC | ROC AUC | F1 | precision | recall | MCC | Brier "
        "| µs/row |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        mark = "**→**" if r["selected"] == "True" else ""
        name = r["name"] or f"{r['learner']}/{r['strategy']}"
        if r["error"]:
            lines.append(f"| {mark} | {name} | | failed: {r['error']} | | | | | | | |")
            continue

        def cell(m, r=r):
            return f"{float(r[m + '_mean']):.3f} ± {float(r[m + '_std']):.3f}"

        us = f"{float(r['us_per_row']):.1f}" if r["us_per_row"] else ""
        lines.append(
            f"| {mark} | {name} | {r['features']} | {cell('pr_auc')} | {cell('roc_auc')} "
            f"| {cell('f1')} | {cell('precision')} | {cell('recall')} | {cell('mcc')} "
            f"| {cell('brier')} | {us} |"
        )
    return "\n".join(lines)


def test_table(run: Path) -> str:
    m = _json(run, "metrics.json")
    sel = m["selection"]
    lines = [
        f"Selected **{sel['picked']}** (threshold {m['threshold']:.3f}, objective "
        f"{m['threshold_objective']}, calibration "
        f"{'Platt' if m['calibration']['applied'] else 'none'}): {sel['reason']}.",
        "",
        f"Held-out test split ({m['n_test']} rows, positive rate {m['positive_rate']:.1%}), "
        "evaluated once:",
        "",
        "| ROC AUC | PR AUC | F1 | precision | recall | accuracy | balanced acc. | MCC | Brier |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {m['roc_auc']:.3f} | {m['pr_auc']:.3f} | {m['f1']:.3f} | {m['precision']:.3f} "
        f"| {m['recall']:.3f} | {m['accuracy']:.2%} | {m['balanced_accuracy']:.3f} "
        f"| {m['mcc']:.3f} | {m['brier']:.4f} |",
        "",
        "| class | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    for row in m["per_class"]:
        lines.append(
            f"| {row['class']} | {row['precision']:.2f} | {row['recall']:.2f} "
            f"| {row['f1']:.2f} | {row['support']} |"
        )
    macro = sum(r["f1"] for r in m["per_class"]) / len(m["per_class"])
    lines.append("")
    lines.append(f"Macro-averaged F1 (the second reference project's measure): {macro:.2f}.")
    return "\n".join(lines)


def derived_text(run: Path) -> str:
    m = _json(run, "metrics.json")
    found = "; ".join(f"`{c}`" for c in m.get("derived_candidates", [])) or "none"
    used = "uses them" if m.get("derived_used") == "derived" else "does not use them"
    return f"Features the search derived without being asked: {found}. The selected model {used}."


def command(run: Path) -> str:
    info = _json(run, "run.json")
    parts = info["command"]
    return " ".join(f'"{p}"' if " " in p else p for p in parts)


def bar_row(name: str, run: Path) -> str:
    m, info = _json(run, "metrics.json"), _json(run, "run.json")
    cells = []
    for key, floor in BARS[name]:
        if floor is None:
            cells.append(f"{m[key]:.3f} (no bar)")
        else:
            verdict = "met" if m[key] >= floor else "**missed**"
            cells.append(f"{m[key]:.3f} (bar ≥ {floor:.2f}) {verdict}")
    # run.json times the search and the run folder; the report is timed apart.
    wall = info["elapsed_seconds"] + info.get("report_seconds", 0.0)
    if name == "marketing":
        verdict = "met" if wall <= MARKETING_WALL_SECONDS else "**missed**"
        cells.append(f"{wall:.0f} (bar ≤ {MARKETING_WALL_SECONDS}) {verdict}")
    else:
        cells.append(f"{wall:.0f}")
    return f"| {name} | {m['selection']['picked']} | {m['trials']} | " + " | ".join(cells) + " |"


def _budget(info: dict) -> str:
    """A run has a time budget, or an exact number of trials (`--trials`)."""
    if info.get("budget_seconds") is None:
        return f"{info['trials_requested']} trials"
    return f"{info['budget_seconds']:.0f} s"


def budget_row(name: str, run: Path) -> str:
    m, info = _json(run, "metrics.json"), _json(run, "run.json")
    return (
        f"| {name} | {_budget(info)} | {len(info['learners_searched'])} × "
        f"{len(info['strategies_searched'])} | {m['trials']} | {m['selection']['picked']} "
        f"| {m['cv_score']:.3f} ± {m['selection']['best_cv_se']:.3f} | {m['roc_auc']:.3f} "
        f"| {m['pr_auc']:.3f} | {m['f1']:.3f} |"
    )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--marketing", required=True, help="the default search's run folder")
    p.add_argument("--telecom", required=True, help="the default search's run folder")
    p.add_argument("--marketing-full", required=True, help="the larger search's run folder")
    p.add_argument("--telecom-full", required=True, help="the larger search's run folder")
    p.add_argument("--out", default="docs/results.md")
    args = p.parse_args(argv)
    mk, tc = Path(args.marketing), Path(args.telecom)
    mf, tf = Path(args.marketing_full), Path(args.telecom_full)
    full_budget = _budget(_json(mf, "run.json"))

    bars = "\n".join(
        [
            "| data | selected | trials | ROC AUC | PR AUC | F1 | wall s |",
            "|---|---|---|---|---|---|---|",
            bar_row("marketing", mk),
            bar_row("telecom", tc),
        ]
    )
    budgets = "\n".join(
        [
            "| data | budget | learners × strategies | trials | selected | CV PR AUC ± SE "
            "| test ROC AUC | test PR AUC | test F1 |",
            "|---|---|---|---|---|---|---|---|---|",
            budget_row("marketing", mk),
            budget_row("marketing", mf),
            budget_row("telecom", tc),
            budget_row("telecom", tf),
        ]
    )
    text = f"""# Results on the reference datasets

Generated by `make results` (which runs the training commands shown below and
then `scripts/write_results.py`); rerun it to reproduce every figure on this
page. Trial counts and seconds depend on what else the machine was doing.
Seed 42, stratified 80/20 split, 5-fold CV on the train part. Leaderboard
figures are CV mean ± std over the folds of the train part; F1, precision,
recall and MCC at each candidate's own tuned threshold. The test split is
scored once, for the selected model only.

## The default search against the quality bars

`python -m train` with its defaults (quick preset, `--budget 120`), held-out
test split, evaluated once after selection. Wall seconds: the search, the run
folder and the report.

{bars}

```
{command(mk)}
{command(tc)}
```

## A larger search

The same data and split with every default learner × every imbalance
strategy (`--preset full`) and {full_budget}. The CV column is the
selected model's; SE is the standard error of the best candidate's score
over the folds.

{budgets}

```
{command(mf)}
{command(tf)}
```

How far one test split moves the telecom figures: `scripts/split_spread.py`,
in [training.md](training.md#measured-issue-15s-bars).

## Bank marketing response (`marketing_data.csv`, target `y`, positive `yes`)

The larger search's leaderboard (each learner × strategy group's best trial,
and the ensemble of the best trials):

{leaderboard_table(mf)}

{derived_text(mf)}

{test_table(mf)}

### What the first reference project reported (80/20 split, seed 42)

{REFERENCE_MARKETING}

## Telecom churn (`telecom_churn.csv`, target `churn`, positive `True`)

The larger search's leaderboard:

{leaderboard_table(tf)}

{derived_text(tf)}

{test_table(tf)}

### What the second reference project reported (random 80/20 split, seed 42, no stratification, macro F1)

{REFERENCE_TELECOM}

## Why the figures differ from the reference projects

- **Accuracy is not the measure here.** 92.7 % accuracy on the marketing data
  is close to the 92.6 % of always answering "no". This project selects on
  PR AUC and reports the positive class's precision, recall and F1 at a tuned
  threshold, which is what a campaign or retention team acts on.
- **Resampling before the split leaks.** The first reference project's network
  figures with SMOTE, ADASYN and SMOTE+Tomek (precision ≈ 0.5 with recall ≈ 0.5)
  come from a notebook that resampled the whole data set before splitting, so
  synthetic rows interpolated from test rows sat in the training data and
  near-copies of training rows sat in the test data. Here every resampler runs
  inside the training folds only, and the test split holds real rows only; the
  leaderboards above show what SMOTE and its relatives are worth without the
  leak.
- **Macro F1 averages in the easy class.** The second reference project's
  "F1 0.90" is the mean of the churn and no-churn F1; the per-class tables above
  give both, and the macro average on the line below them for comparison.
- **Cross-validation picks; the test split only reports.** A larger search can
  select a model that does a little worse on the one test split. With under a
  hundred test positives on telecom such gaps sit inside the bootstrap
  intervals the run's report.html gives; choosing by the test split instead
  would make its figures optimistic.
- **Different splits.** The telecom reference split is random and
  unstratified; with 483 churners, a different 667-row test split moves the
  metrics by a few points either way.
"""
    out = Path(args.out)
    # `make bench-quality` owns its section of the same page: keep it.
    kept = read_section(out.read_text()) if out.exists() else None
    out.write_text(replace_section(text, kept) if kept else text)
    print(f"wrote {args.out}" + (" (the bench-quality section kept)" if kept else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
