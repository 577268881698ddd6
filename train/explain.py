"""The report's view of the reason codes the exported graph will serve.

Global importance as the mean |contribution| over the test split (the same
path or linear contributions the graph computes, export/contributions.py),
beside permutation importance; and three example customers with their top
reasons: the highest score, the one closest to the threshold, the lowest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TOP_REASONS = 3
# Test rows the section explains at most: the mean |contribution| is stable
# long before, and a million-row table's test split would cost the report
# minutes and a copy of its contributions.
MAX_ROWS = 20_000


def contributions(model, X: pd.DataFrame):
    """(names, [N, columns] contributions, base), or a str saying why there are none."""
    from export.contributions import explain_python, features
    from export.tree_paths import Unexplained

    try:
        values, base = explain_python(model, X)
    except Unexplained as exc:
        return f"{model.learner} is not explained: {exc}"
    return [f["name"] for f in features(model)], values, base


def _value(v) -> str:
    if isinstance(v, float | np.floating):
        return "missing" if np.isnan(v) else f"{float(v):g}"
    return str(v) if v != "" else "missing"


def section(doc, model, X_test: pd.DataFrame, importance: list) -> None:
    """Adds "Reasons" to the report: global mean |contribution| and three customers."""
    doc.section('Reasons (contributions served by POST /predict with "explain")')
    if len(X_test) > MAX_ROWS:
        X_test = X_test.sample(MAX_ROWS, random_state=0)
    X_test = X_test.reset_index(drop=True)
    found = contributions(model, X_test)
    if isinstance(found, str):
        doc.para(found + ". The served graph has no `contributions` output.")
        return
    names, values, base = found
    mean_abs = np.abs(values).mean(axis=0)
    permutation = {name: drop for name, drop, _ in importance}
    rank = np.argsort(-mean_abs, kind="stable")
    doc.para(
        f"Mean |contribution| (log-odds) over {len(X_test):,} test rows, beside the drop in "
        "PR AUC when the column is shuffled. Path contributions (trees) or coefficient x centred "
        f"value (logistic regression); base value {base:.4f}. See docs/reasons.md."
    )
    doc.table(
        ["column", "mean absolute contribution", "permutation importance"],
        [[names[i], f"{mean_abs[i]:.4f}", _perm(permutation.get(names[i]))] for i in rank.tolist()],
    )
    p = model.predict_proba(X_test)
    picks = {
        "highest score": int(np.argmax(p)),
        "closest to the threshold": int(np.argmin(np.abs(p - model.threshold))),
        "lowest score": int(np.argmin(p)),
    }
    rows = []
    for label, i in picks.items():
        order = np.argsort(-np.abs(values[i]), kind="stable")[:TOP_REASONS]
        reasons = "; ".join(
            f"{names[j]}{_shown(X_test, i, names[j])}: {values[i, j]:+.3f}" for j in order
        )
        rows.append([label, f"{p[i]:.4f}", reasons])
    doc.para(f"Three test customers and their top {TOP_REASONS} reasons (log-odds contributions).")
    doc.table(["customer", "probability", "top reasons"], rows)


def _perm(drop) -> str:
    return "derived (no column to shuffle)" if drop is None else f"{drop:.4f}"


def _shown(X: pd.DataFrame, i: int, name: str) -> str:
    return f" = {_value(X.iloc[i][name])}" if name in X.columns else ""
