"""The report's reasons: mean |contribution| beside permutation importance, and
three customers with their top reasons; a model without contributions says so."""

from __future__ import annotations

import numpy as np

from tests.export.test_contributions import DERIVED, data, fit  # noqa: F401
from train import explain
from train.report.render import Document
from train.search import build_pipeline
from train.trained import TrainedModel


def test_reasons_section_ranks_columns_and_shows_three_customers(data):  # noqa: F811
    model = fit(data, "xgboost")
    X_test = data[3]
    importance = [(name, 0.01 * k, 0.0) for k, name in enumerate(model.schema.names)]
    doc = Document("t")
    explain.section(doc, model, X_test, importance)
    text = doc.markdown()
    names, values, _ = explain.contributions(model, X_test)
    top = names[int(np.argmax(np.abs(values).mean(axis=0)))]
    table = text.split("| column | mean absolute contribution | permutation importance |")[-1]
    assert table.split("\n")[2].startswith(f"| {top} | ")  # largest mean first
    assert "| age_calls |" in text and "derived (no column to shuffle)" in text
    assert "| plan | " in text and "| 0.0300 |" in text  # permutation importance of plan
    for label in ("highest score", "closest to the threshold", "lowest score"):
        assert f"| {label} | " in text
    best = int(np.argmax(model.predict_proba(X_test)))
    first = names[int(np.argmax(np.abs(values[best])))]
    assert f"| highest score | {model.predict_proba(X_test)[best]:.4f} | {first}" in text


def test_a_model_without_contributions_says_why(data):  # noqa: F811
    schema, X, y, X_test = data
    pipe = build_pipeline(schema, "nb", "none", 0, 7.0, derived=DERIVED).fit(X, y)
    doc = Document("t")
    explain.section(doc, TrainedModel(pipe, "nb", "none", 0.5, None, schema), X_test, [])
    assert "nb is not explained: GaussianNB: only tree ensembles" in doc.markdown()
