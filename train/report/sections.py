"""What the report says, section by section, in order.

Sections drawn from optional run-folder files (the search trajectory, the
ensemble, serving cost against quality) appear only when their file is there.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from contract.schema import NUMERIC
from train import column_kinds, explain, leaderboard, metrics
from train.report import card, figures, run_files, search_figures, stats
from train.report.render import Document

# The leaderboard table's metrics: the selectable ones a page's width holds.
LEADERBOARD_METRICS = tuple(m for m in metrics.SELECTION if m not in ("mcc", "balanced_accuracy"))
LEADERBOARD_HEADER = [metrics.get(m).label for m in LEADERBOARD_METRICS]


def _leaderboard_frame(folder: Path | None, result, metric: str) -> pd.DataFrame:
    frame = run_files.leaderboard(folder) if folder is not None else None
    if frame is None:  # a report built outside write_run: the same rows, from memory
        from train.artifacts import leaderboard_rows

        frame = pd.DataFrame(leaderboard_rows(result, metric))
    return frame


def build(dataset, result, config, command: list[str], train_fn=None, folder=None) -> dict:
    """Compute the report's figures and numbers; `folder` is the run folder whose
    optional files (trials.csv, ensemble.json, leaderboard.csv costs) add sections.

    The runner-up's refit and the permutation importance (mostly fitting and
    predicting, outside the GIL) run on a second thread while this one draws:
    the same numbers, sooner on two cores."""
    schema, model, metric = result.model.schema, result.model, config.metric
    raw = result.test_raw  # what model.predict_proba(X_test) computes, kept from the scoring
    if raw is None:
        raw = model.pipeline.predict_proba(result.X_test[schema.names])[:, 1]
    p_test = model.calibration.apply(raw) if model.calibration is not None else raw
    y_test = result.y_test
    runner = stats.runner_up(result, metric)
    with ThreadPoolExecutor(1) as pool:
        runner_scores = (
            pool.submit(stats.runner_up_scores, result, config, runner) if runner else None
        )
        importance = pool.submit(
            stats.permutation_importance, model, result.X_test, y_test, config.seed
        )
        figs, overview, board, trials, ensemble, costed = _overview(dataset, result, config, folder)
        intervals = stats.bootstrap_intervals(y_test, p_test, model.threshold, config.seed)
        scores = {f"{model.learner} + {model.strategy} (selected)": p_test}
        if runner is not None:
            scores[f"{runner.learner} + {runner.strategy} (runner-up)"] = runner_scores.result()
        figs.append(figures.roc_pr_curves(y_test, scores))
        figs.append(figures.confusion(y_test, p_test, model.threshold, schema))
        figs.append(figures.threshold_sweep(y_test, p_test, model.threshold))
        curves = {"selected model": p_test}
        if model.calibration is not None:
            curves = {"before calibration": raw, "after calibration (served)": p_test}
        figs.append(figures.reliability(y_test, curves))
        importance, base = importance.result()
    figs.append(figures.importance_figure(importance, base))
    return {
        "figures": figs,
        "overview": overview,
        "intervals": intervals,
        "importance": importance,
        "command": command,
        "runner_up": runner,
        "leaderboard": board,
        "costed": costed,  # leaderboard rows with both costs and a score, or None
        "trials": trials,
        "ensemble": ensemble,
    }


def _overview(dataset, result, config, folder):
    """The data-overview and search figures, with the run-folder files they read:
    (figures, overview figure names, leaderboard, trials, ensemble, costed rows)."""
    schema, metric = result.model.schema, config.metric
    figs = [figures.class_balance(dataset.y, schema)]
    X, y = stats.bounded(dataset.X, dataset.y, stats.REPORT_ROWS, config.seed)
    for maker in (
        figures.numeric_distributions,
        figures.categorical_rates,
        figures.correlation_heatmap,
    ):
        fig = maker(X, y, schema)
        if fig is not None:
            figs.append(fig)
    overview = [fig.name for fig in figs]

    board = _leaderboard_frame(folder, result, metric)
    trials = run_files.trials(folder) if folder is not None else None
    ensemble = run_files.ensemble(folder) if folder is not None else None
    if trials is not None:
        figs.append(search_figures.search_trajectory(trials, metric))
    costed = None
    if run_files.has_costs(board, metric):
        costed = board[(board["onnx_bytes"] > 0) & (board["us_per_row"] > 0)]
        costed = costed[costed[f"{metric}_mean"].notna()].reset_index(drop=True)
        if len(costed):
            figs.append(search_figures.cost_quality(costed, metric))
        else:
            costed = None
    return figs, overview, board, trials, ensemble, costed


def write(out: Path, dataset, result, config, command: list[str], info: dict) -> None:
    """Write report.html, report.md and figures/*.png into the run folder `out`."""
    out = Path(out)
    parts = build(dataset, result, config, command, folder=out)
    by_name = {f.name: f for f in parts["figures"]}
    schema, model = result.model.schema, result.model
    doc = Document(f"Model report: {schema.target} = {schema.positive_label}")
    doc.para(
        f"Data {dataset.source} (sha256 {dataset.sha256[:16]}…), trained {info['created']}. "
        f"Selected {model.learner} + {model.strategy}, threshold {model.threshold:.4f}."
    )
    data_overview(doc, dataset, schema, by_name)
    leaderboard_section(doc, parts["leaderboard"], config)
    holdout_table(doc, result.test_metrics)
    if parts["trials"] is not None:
        search_section(doc, parts["trials"], config.metric, by_name)
    if parts["ensemble"] is not None:
        ensemble_section(doc, parts["ensemble"])
    if parts["costed"] is not None:
        cost_section(doc, parts["costed"], config.metric, by_name)
    curves_section(doc, result.calibration_report, by_name)
    doc.section("Feature importance")
    doc.figure(by_name.get("importance"))
    explain.section(doc, model, result.X_test, parts["importance"])
    doc.section("Model card")
    doc.table(
        ["", ""],
        card.rows(dataset, result, config, command, info, parts["intervals"], parts["ensemble"]),
    )
    doc.write(out)


def data_overview(doc: Document, dataset, schema, by_name: dict) -> None:
    X, y = dataset.X, dataset.y
    doc.section("Data overview")
    doc.para(
        f"{len(y):,} rows, {len(schema.features)} feature columns "
        f"({len(schema.numeric)} numeric, {len(schema.categorical)} categorical); "
        f"{int(y.sum()):,} positive ({y.mean():.2%})."
    )
    doc.figure(by_name.get("class_balance"))
    missing = []
    for f in schema.features:
        n = int(X[f.name].isna().sum()) if f.input_kind == NUMERIC else int((X[f.name] == "").sum())
        if n:
            missing.append([f.name, f.kind, f"{n:,}", f"{n / len(X):.2%}"])
    if missing:
        doc.table(["column", "kind", "missing", "share"], missing)
    else:
        doc.para("No missing values.")
    read_as = column_kinds.report_rows(schema)  # dates, numbers as text, encodings
    if read_as:
        doc.table(["column", "read as"], read_as)
    if schema.dropped:
        doc.table(["dropped column", "why"], [[k, v] for k, v in schema.dropped.items()])
    if len(y) > stats.REPORT_ROWS:
        doc.para(f"The figures below draw a stratified sample of {stats.REPORT_ROWS:,} rows.")
    for name in ("numeric_by_class", "categorical_rates", "correlation"):
        doc.figure(by_name.get(name))


def _mean_std(row, key: str) -> str:
    mean, std = row.get(f"{key}_mean"), row.get(f"{key}_std")
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "-"
    return f"{mean:.3f} ± {std:.3f}"


def leaderboard_table(frame: pd.DataFrame, metric: str) -> tuple[list[list[str]], int | None]:
    """Table rows best first by `metric` (failed candidates last), and the selected row."""
    costs = [c for c in run_files.COST_COLUMNS if c in frame.columns]
    failed = frame["error"].fillna("").astype(str) != ""
    ordered = pd.concat([leaderboard.rank(frame[~failed], metric), frame[failed]])
    rows, selected = [], None
    for k, (_, r) in enumerate(ordered.iterrows()):
        if bool(r["selected"]):
            selected = k
        if r["error"]:
            rows.append(
                [r["learner"], r["strategy"], f"failed: {r['error']}"]
                + [""] * (len(LEADERBOARD_METRICS) - 1 + len(costs))
            )
            continue
        row = [r["learner"], r["strategy"]] + [_mean_std(r, m) for m in LEADERBOARD_METRICS]
        if "onnx_bytes" in costs:
            b = r["onnx_bytes"]
            row.append("-" if pd.isna(b) else f"{b / 1024:,.1f}")
        if "us_per_row" in costs:
            u = r["us_per_row"]
            row.append("-" if pd.isna(u) else f"{u:,.2f}")
        rows.append(row)
    return rows, selected


def leaderboard_section(doc: Document, frame: pd.DataFrame, config) -> None:
    doc.section("Leaderboard")
    doc.para(
        f"Cross-validated on the train split ({config.folds} folds); mean ± std over folds. "
        f"Selected by {config.metric}. F1, precision and recall at each candidate's tuned "
        "threshold."
    )
    header = ["learner", "strategy", *LEADERBOARD_HEADER]
    header += [
        label
        for column, label in (("onnx_bytes", "ONNX KiB"), ("us_per_row", "µs/row"))
        if column in frame.columns
    ]
    rows, selected = leaderboard_table(frame, config.metric)
    doc.table(header, rows, highlight=selected)


def holdout_table(doc: Document, m: dict) -> None:
    doc.para("The selected model on the held-out test split (evaluated once):")
    doc.table(
        ["class", "precision", "recall", "F1", "support"],
        [
            [
                r["class"],
                f"{r['precision']:.2f}",
                f"{r['recall']:.2f}",
                f"{r['f1']:.2f}",
                f"{r['support']:,}",
            ]
            for r in m["per_class"]
        ],
    )


def search_section(doc: Document, trials: pd.DataFrame, metric: str, by_name: dict) -> None:
    doc.section("Search trajectory")
    complete = trials[trials["state"].str.lower() == "complete"]
    text = (
        f"{len(trials)} trials in {trials['elapsed_seconds'].max():.0f} s "
        f"({len(complete)} completed), scored by CV {metric}."
    )
    if len(complete):
        ranked = leaderboard.rank(complete.rename(columns={"score": metric}), metric)
        top = trials.loc[ranked.index[0]]
        text += (
            f" Best: trial {int(top['trial'])}, {top['learner']} + {top['sampler']}, "
            f"{top['score']:.4f} after {top['elapsed_seconds']:.0f} s"
        )
        if "params" in trials.columns and isinstance(top["params"], str) and top["params"]:
            text += f", with {top['params']}"
        text += "."
    doc.para(text)
    doc.figure(by_name.get("search_trajectory"))
    doc.table(
        ["learner", "trials", "completed", "pruned", "failed", f"best {metric}"],
        [
            [
                r["learner"],
                r["trials"],
                r["complete"],
                r["pruned"],
                r["failed"],
                "-" if np.isnan(r[metric]) else f"{r[metric]:.4f}",
            ]
            for r in stats.trial_summary(trials, metric)
        ],
    )


def ensemble_section(doc: Document, ens: dict) -> None:
    doc.section("Ensemble")
    verdict = (
        "Chosen: the served model is this weighted average."
        if ens["chosen"]
        else "Not chosen: the single best model is served."
    )
    nested = ""
    if isinstance(ens.get("nested_cv_score"), (int, float)) and isinstance(
        ens.get("gain_se"), (int, float)
    ):
        nested = (
            f" With the weights chosen without each fold, {ens['nested_cv_score']:.4f}: "
            f"{ens['gain_over_single']:+.4f} on the same folds (SE {ens['gain_se']:.4f}); "
            "the ensemble is kept only when that gain exceeds its SE."
        )
    doc.para(
        f"Greedy ensemble selection over the out-of-fold predictions of the best trials: "
        f"{len(ens['members'])} members, CV {ens['metric']} {ens['cv_score']:.4f} against "
        f"{ens['single_best_cv_score']:.4f} for the single best model.{nested} {verdict}"
    )
    members = sorted(ens["members"], key=lambda m: -m["weight"])
    doc.table(
        ["member", "learner", "sampler", "weight"],
        [[m["name"], m["learner"], m["sampler"], f"{m['weight']:.3f}"] for m in members],
    )


def cost_section(doc: Document, frame: pd.DataFrame, metric: str, by_name: dict) -> None:
    doc.section("Serving cost against quality")
    text = (
        "Each candidate's exported graph size and scoring time per row on onnxruntime "
        f"(as the leaderboard records them) against its CV {metric}."
    )
    picked = frame[frame["selected"]]
    if len(picked):
        p = picked.iloc[0]
        text += (
            f" Picked: {p['learner']} + {p['strategy']}, {p[f'{metric}_mean']:.4f}, "
            f"{p['onnx_bytes'] / 1024:,.1f} KiB, {p['us_per_row']:,.2f} µs/row."
        )
    doc.para(text)
    doc.figure(by_name.get("cost_quality"))


def curves_section(doc: Document, cal: dict, by_name: dict) -> None:
    doc.section("Curves")
    for name in ("roc_pr", "confusion", "threshold", "reliability"):
        doc.figure(by_name.get(name))
    if cal["applied"]:
        doc.para(
            f"Platt calibration was applied ({cal['reason']}): Brier on the test split "
            f"{cal['test_brier_uncalibrated']:.4f} before, {cal['test_brier']:.4f} after."
        )
    else:
        doc.para(
            f"No calibration: {cal['reason']}. Brier on the test split {cal['test_brier']:.4f}."
        )
