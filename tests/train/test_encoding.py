"""Many-valued categoricals: the CV choice, the width limit, and the lookup in ONNX."""

import numpy as np
import onnxruntime as ort
import pandas as pd

from contract.schema import CATEGORICAL, NUMERIC, Feature, Schema
from train import encoding
from train.encoding import LookupEncoder


def _data(n=4000, levels=600, seed=0):
    rng = np.random.default_rng(seed)
    city = rng.integers(0, levels, n)
    effect = rng.normal(0, 1.5, levels)
    y = (rng.random(n) < 1 / (1 + np.exp(2 - effect[city]))).astype(int)
    X = pd.DataFrame(
        {
            "city": [f"c{c}" for c in city],
            "noise": [f"n{k}" for k in rng.integers(0, 500, n)],
            "x": rng.normal(size=n).astype(np.float32),
        }
    )
    schema = Schema(
        (
            Feature("city", CATEGORICAL, categories=tuple(sorted(X["city"].unique()))),
            Feature("noise", CATEGORICAL, categories=tuple(sorted(X["noise"].unique()))),
            Feature("x", NUMERIC),
        ),
        "y",
        "0",
        "1",
    )
    return X, y, schema


def test_cv_chooses_a_lookup_for_a_many_valued_signal_and_orders_by_frequency():
    X, y, schema = _data()
    chosen = {f.name: f for f in encoding.choose(schema, X, y, folds=3, seed=0).features}
    assert chosen["city"].encoding == "target"
    assert chosen["noise"].encoding in ("onehot-top", "frequency")
    assert chosen["x"].encoding == ""
    counts = X["city"].value_counts()
    assert counts[chosen["city"].categories[0]] == counts.max()
    assert any(
        "city: target encoding" in line
        for line in encoding.describe(encoding.choose(schema, X, y, folds=3, seed=0))
    )


def test_target_encoding_is_out_of_fold_when_fitted():
    values = np.array([[f"u{k}"] for k in range(200)], dtype=object)  # each value once
    y = np.arange(200) % 2
    encoder = LookupEncoder("target", folds=5, seed=0)
    out = encoder.fit_transform(values, y)[:, 0]
    # A row never sees its own label: every value is unseen in the other folds.
    assert abs(out[y == 1].mean() - out[y == 0].mean()) < 0.01
    seen = encoder.transform(values)[:, 0]  # the full table, for serving, does know them
    assert seen[y == 1].mean() - seen[y == 0].mean() > 0.04


def test_no_design_matrix_is_wider_than_the_limit():
    features = [
        Feature(f"c{k}", CATEGORICAL, categories=tuple(f"v{i}" for i in range(100)))
        for k in range(20)
    ]
    blocks, lookups, widths = encoding.categorical_blocks(features, n_numeric=40, seed=0)
    assert lookups == 0 and sum(widths) + 40 <= encoding.MAX_WIDTH
    onehot = blocks[-1][1]
    assert [len(c) for c in onehot.categories] == widths


def test_lookup_encoder_in_onnx_matches_python():
    from export.converters import convert_sklearn, register_converters

    X, y, _ = _data(n=500, levels=50)
    encoder = LookupEncoder("target").fit(X[["city"]], y)
    register_converters()
    proto = convert_sklearn(encoder, [("city", CATEGORICAL)])
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    probe = np.array([["c1"], ["c7"], ["never seen"], [""]], dtype=object)
    (got,) = session.run(None, {"city": probe})
    assert np.array_equal(got, encoder.transform(probe))
    assert got[2, 0] == np.float32(y.mean())
