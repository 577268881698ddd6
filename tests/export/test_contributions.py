"""The graph's `contributions` output: additive, grouped to raw columns, and the
same as independent computations over the fitted models (XGBoost's own
approx_contribs, a slow walk of each tree, the logistic formula)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import onnxruntime as ort
import pytest

from contract.feeds import from_frame
from export import contributions as C
from export import graph as G
from export import parity
from export.tree_paths import EXPLAINED
from lambda_fn.reasons import CONTRIBUTIONS, EXPLAIN_INPUT, LOGIT_CLIP
from tests.conftest import make_frame
from train.evaluate import EPS, PlattCalibration
from train.features import DerivedSpec
from train.search.fitting import build_pipeline, fit_params, train_schema
from train.trained import Member, TrainedModel, WeightedAverage

DERIVED = DerivedSpec(sums=(("age_calls", ("age", "calls")),), missing=(("age is missing", "age"),))
SMALL = {
    "xgboost": {"n_estimators": 30, "max_depth": 3},
    "lightgbm": {"n_estimators": 30, "num_leaves": 7},
    "rf": {"n_estimators": 15, "min_samples_leaf": 5},
    "gb": {"n_estimators": 30},
    "logreg": None,
}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_data(tmp_path_factory.mktemp("explain"))


def make_data(folder):
    """(schema, X_train, y_train, X_test): 400 training rows, 120 test rows."""
    from train.data import load_dataset

    path = folder / "customers.csv"
    make_frame(n=520, seed=11).to_csv(path, index=False)
    ds = load_dataset(str(path), "y")
    X_train, y_train = ds.X.iloc[:400], ds.y[:400]
    return train_schema(ds.schema, X_train), X_train, y_train, ds.X.iloc[400:]


def fit(data, learner, strategy="class_weight", calibration=None) -> TrainedModel:
    schema, X, y, _ = data
    pipe = build_pipeline(schema, learner, strategy, 0, 7.0, params=SMALL[learner], derived=DERIVED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X, y, **fit_params(learner, strategy, y))
    return TrainedModel(pipe, learner, strategy, 0.5, calibration, data[0])


def explained(model, X):
    """(probability, contributions, metadata entry) from the exported graph."""
    proto = G.build_graph(model)
    meta = C.add_output(proto, model)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = from_frame(X, model.schema)
    plain = session.run([CONTRIBUTIONS], feeds)[0]
    assert plain.shape == (0, len(meta["features"]))  # not computed unless asked
    p, c = session.run(["probability", CONTRIBUTIONS], {**feeds, EXPLAIN_INPUT: np.array(True)})
    return p.astype(np.float64), c.astype(np.float64), meta


def logit(p):
    p = np.clip(p, LOGIT_CLIP, 1 - LOGIT_CLIP)
    return np.log(p) - np.log1p(-p)


def assert_additive(p, c, base):
    """base + sum = logit(p) within 1e-4 wherever a float32 probability carries
    its log-odds that closely (p(1 - p) >= 0.002); beyond, within what the
    probability's own accuracy allows (onnxruntime's float32 sigmoid: ~1e-7)."""
    gap = np.abs(base + c.sum(axis=1) - logit(p))
    pc = np.clip(p, LOGIT_CLIP, 1 - LOGIT_CLIP)
    moderate = pc * (1 - pc) >= 2e-3
    assert moderate.sum() >= len(p) // 3
    assert gap[moderate].max() <= 1e-4
    assert (gap <= 1e-4 + 2e-7 / (pc * (1 - pc))).all(), gap.max()


def encoded(model, X):
    steps = dict(model.pipeline.steps)
    return steps["prep"].transform(steps["derive"].transform(X)), steps


def name_grouping(prep, names) -> np.ndarray:
    """Encoded column -> contribution column, read from scikit-learn's own
    feature names ("num__age", "cat__plan_basic"), not from export's tracing."""
    M = np.zeros((len(prep.get_feature_names_out()), len(names)))
    for j, full in enumerate(prep.get_feature_names_out()):
        kind, _, rest = full.partition("__")
        if kind == "num":
            M[j, names.index(rest)] = 1
        else:
            col = max((n for n in names if rest.startswith(n + "_")), key=len)
            M[j, names.index(col)] = 1
    return M


def columns(meta) -> list[str]:
    return [f["name"] for f in meta["features"]]


def test_columns_are_the_raw_columns_then_derived_with_their_inputs(data):
    _, _, _, X_test = data
    p, c, meta = explained(fit(data, "xgboost"), X_test)
    assert columns(meta) == [
        "age",
        "balance",
        "calls",
        "plan",
        "region",
        "age_calls",
        "age is missing",
    ]
    inputs = {f["name"]: f.get("inputs") for f in meta["features"]}
    assert inputs["age_calls"] == ["age", "calls"] and inputs["age is missing"] == ["age"]
    assert inputs["plan"] is None and c.shape == (len(X_test), 7)
    json.dumps(meta)  # goes into the metadata as it is


def test_xgboost_agrees_with_approx_contribs(data):
    import xgboost

    _, _, _, X_test = data
    model = fit(data, "xgboost")
    p, c, meta = explained(model, X_test)
    X_enc, steps = encoded(model, X_test)
    booster = steps["model"].get_booster()
    dm = xgboost.DMatrix(np.asarray(X_enc, dtype=np.float32))
    theirs = booster.predict(dm, pred_contribs=True, approx_contribs=True)
    M = name_grouping(steps["prep"], columns(meta))
    assert np.abs(c - theirs[:, :-1] @ M).max() <= 1e-4
    assert np.abs(theirs[:, -1] - meta["base"]).max() <= 1e-4
    assert_additive(p, c, meta["base"])
    python, base = C.explain_python(model, X_test)
    assert base == meta["base"] and np.abs(c - python).max() <= 1e-5


def _sklearn_reference(model, X_enc, names, prep):
    """A slow walk of each fitted scikit-learn tree, row by row."""
    est = dict(model.pipeline.steps)["model"]
    forest = type(est).__name__ == "RandomForestClassifier"
    trees = list(est.estimators_) if forest else [row[0] for row in est.estimators_]
    scale = 1 / len(trees) if forest else est.learning_rate

    def expected(t, k):
        if forest:  # scikit-learn's own weighted class share at the node
            return t.value[k, 0, 1] / t.value[k, 0].sum()
        if t.children_left[k] < 0:
            return t.value[k, 0, 0]
        lo, hi = t.children_left[k], t.children_right[k]
        w = t.weighted_n_node_samples
        return (expected(t, lo) * w[lo] + expected(t, hi) * w[hi]) / w[k]

    X32 = np.asarray(X_enc, dtype=np.float32)
    out = np.zeros(X32.shape)
    base = 0.0
    for tree in trees:
        t = tree.tree_
        base += scale * expected(t, 0)
        for i, x in enumerate(X32):
            k = 0
            while t.children_left[k] >= 0:
                f = t.feature[k]
                child = t.children_left[k] if x[f] <= t.threshold[k] else t.children_right[k]
                out[i, f] += scale * (expected(t, child) - expected(t, k))
                k = child
    grouped = out @ name_grouping(prep, names)
    if not forest:
        probe = np.zeros((1, X32.shape[1]), dtype=np.float32)
        init = est.decision_function(probe)[0] - scale * sum(r.predict(probe)[0] for r in trees)
        return grouped, base + init
    p = np.clip(est.predict_proba(X_enc)[:, 1].astype(np.float32), LOGIT_CLIP, 1 - LOGIT_CLIP)
    d = p - base
    grouped *= ((logit(p) - logit(base)) / np.where(d == 0, 1, d))[:, None]
    return grouped, float(logit(base))


def _lightgbm_reference(model, X_enc, names, prep):
    """A slow walk of LightGBM's dumped trees, row by row."""
    booster = dict(model.pipeline.steps)["model"].booster_

    def weight(n):
        return n.get("leaf_weight", n.get("internal_weight"))

    def expected(n):
        if "leaf_value" in n:
            return n["leaf_value"]
        lo, hi = n["left_child"], n["right_child"]
        return (expected(lo) * weight(lo) + expected(hi) * weight(hi)) / weight(n)

    out = np.zeros(X_enc.shape)
    base = 0.0
    for info in booster.dump_model()["tree_info"]:
        root = info["tree_structure"]
        base += expected(root)
        for i, x in enumerate(np.asarray(X_enc, dtype=np.float64)):
            n = root
            while "leaf_value" not in n:
                f = n["split_feature"]
                child = n["left_child"] if x[f] <= n["threshold"] else n["right_child"]
                out[i, f] += expected(child) - expected(n)
                n = child
    return out @ name_grouping(prep, names), base


@pytest.mark.parametrize("learner", ["lightgbm", "rf", "gb"])
def test_tree_contributions_match_a_slow_walk_of_the_fitted_trees(data, learner):
    _, _, _, X_test = data
    model = fit(data, learner, strategy="none" if learner == "gb" else "class_weight")
    p, c, meta = explained(model, X_test)
    X_enc, steps = encoded(model, X_test)
    reference = _lightgbm_reference if learner == "lightgbm" else _sklearn_reference
    slow, base = reference(model, X_enc, columns(meta), steps["prep"])
    assert abs(base - meta["base"]) <= 1e-4
    assert np.abs(c - slow).max() <= 1e-4
    assert_additive(p, c, meta["base"])
    python, _ = C.explain_python(model, X_test)
    assert np.abs(c - python).max() <= 1e-5
    assert np.count_nonzero(np.abs(c).sum(axis=0)) >= 3


def test_logistic_regression_is_coefficient_times_centred_value(data):
    _, _, _, X_test = data
    model = fit(data, "logreg")
    p, c, meta = explained(model, X_test)
    X_enc, steps = encoded(model, X_test)
    lr, names = steps["model"], columns(meta)
    coef = lr.coef_[0]
    out = np.zeros((len(X_test), len(names)))
    for j, full in enumerate(steps["prep"].get_feature_names_out()):
        kind, _, rest = full.partition("__")
        if kind == "num":  # scaled: the training mean is 0
            out[:, names.index(rest)] += coef[j] * X_enc[:, j]
    cat = steps["prep"].named_transformers_["cat"]
    start = sum(1 for n in steps["prep"].get_feature_names_out() if n.startswith("num__"))
    for col, levels in zip(cat.feature_names_in_, cat.categories_, strict=True):
        w = coef[start : start + len(levels)]
        out[:, names.index(col)] += X_enc[:, start : start + len(levels)] @ w - w.mean()
        start += len(levels)
    assert np.abs(c - out).max() <= 1e-4
    margin = lr.decision_function(X_enc)
    assert np.abs(meta["base"] + c.sum(axis=1) - margin).max() <= 1e-4
    assert meta["method"] == "linear" and meta["additive"]
    assert_additive(p, c, meta["base"])


def test_platt_calibration_scales_contributions_and_base(data):
    _, _, _, X_test = data
    plain = fit(data, "xgboost")
    calibration = PlattCalibration(slope=0.8, intercept=-0.4)
    calibrated = TrainedModel(plain.pipeline, "xgboost", "class_weight", 0.5, calibration, data[0])
    _, c0, meta0 = explained(plain, X_test)
    p, c, meta = explained(calibrated, X_test)
    assert meta["base"] == pytest.approx(0.8 * meta0["base"] - 0.4, abs=1e-12)
    assert np.abs(c - 0.8 * c0).max() <= 1e-5
    raw = plain.predict_proba(X_test)
    inside = (raw > EPS) & (raw < 1 - EPS)  # Platt clips beyond: no longer linear there
    assert inside.sum() > len(X_test) // 2
    assert_additive(p[inside], c[inside], meta["base"])
    python, _ = C.explain_python(calibrated, X_test)
    assert np.abs(c - python).max() <= 1e-5


def test_an_ensemble_blends_its_members_by_weight_and_states_its_residual(data):
    _, _, _, X_test = data
    xgb, lr = fit(data, "xgboost"), fit(data, "logreg")
    members = [
        Member("a", "xgboost", "class_weight", 0.6, xgb.pipeline),
        Member("b", "logreg", "class_weight", 0.4, lr.pipeline),
    ]
    ensemble = TrainedModel(
        WeightedAverage(members), "ensemble", "class_weight", 0.5, None, data[0], members
    )
    p, c, meta = explained(ensemble, X_test)
    _, c_xgb, meta_xgb = explained(xgb, X_test)
    _, c_lr, meta_lr = explained(lr, X_test)
    assert np.abs(c - (0.6 * c_xgb + 0.4 * c_lr)).max() <= 1e-5
    assert meta["base"] == pytest.approx(0.6 * meta_xgb["base"] + 0.4 * meta_lr["base"])
    assert not meta["additive"] and meta["method"] == "path (Saabas) and linear"
    residual = logit(p) - meta["base"] - c.sum(axis=1)
    assert np.isfinite(residual).all() and np.abs(residual).max() > 1e-4  # averaging probabilities
    python, _ = C.explain_python(ensemble, X_test)
    assert np.abs(c - python).max() <= 1e-5


def test_parity_proof_checks_the_contributions(data):
    _, _, _, X_test = data
    model = fit(data, "lightgbm")
    proto = G.build_graph(model)
    C.add_output(proto, model)
    report = parity.check(proto.SerializeToString(), model, X_test)
    assert report["passed"], report
    diffs = report["contributions"]["max_scaled_diff"]
    assert set(diffs) == {"test_split", "edge_rows"} and max(diffs.values()) <= 1e-5


def test_a_learner_without_paths_exports_without_contributions(data):
    naive = build_pipeline(data[0], "nb", "none", 0, 7.0, derived=DERIVED).fit(data[1], data[2])
    model = TrainedModel(naive, "nb", "none", 0.5, None, data[0])
    proto = G.build_graph(model)
    entry = C.metadata_for(proto, model)
    assert entry == {"explanation_unavailable": f"GaussianNB: only {EXPLAINED} are explained"}
    assert [o.name for o in proto.graph.output] == ["probability", "label"]
