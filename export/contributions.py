"""The `contributions` output: why each row got its score, inside the same graph.

One contribution per raw column (and per derived feature), on the log-odds
scale of the served probability; with the base value (in the model's
metadata) they add up to logit(probability).
- Tree ensembles: path contributions (export/tree_paths.py): one
  TreeEnsembleRegressor over the classifier's own input, with the
  classifier's own splits, whose leaves hold the per-column deltas. Forests
  average probabilities, so their deltas are rescaled per row onto the
  log-odds scale (exactly additive, proportions kept).
- Logistic regression: coefficient x (encoded value - its centre), exact.
- Encoded columns are summed back to the column a caller sent (one-hot
  levels to their column; imputer indicators to theirs). A derived feature
  is its own reason and lists its raw inputs.
- Platt calibration is linear in the log-odds: contributions and base scale.
- An ensemble averages probabilities, not log-odds: its members'
  contributions are blended by weight and the gap to logit(probability) is
  the residual that serving reports.
`explain_python` computes the same from the fitted pipelines (leaves from
each library's own predict), so parity can compare the two.
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from export import contribution_nodes as N
from export import tree_paths as T
from export.tree_paths import Unexplained
from lambda_fn.reasons import CONTRIBUTIONS, EXPLAIN_INPUT, LOGIT_CLIP

TREE_OPS = ("TreeEnsembleRegressor", "TreeEnsembleClassifier")
LINEAR_OPS = ("LinearClassifier",)


def _steps(pipeline) -> dict:
    return {n: s for n, s in pipeline.steps if n != "sampler"}


def _derived_inputs(derive) -> dict[str, list[str]]:
    if derive is None:
        return {}
    out = {n: list(p) for n, p in derive.sums}
    out.update({n: [c] for n, c in getattr(derive, "missing", ())})
    out.update({n: [c] for n, c, _ in getattr(derive, "sentinels", ())})
    for n, month, day, _ in getattr(derive, "dates", ()):
        out[n] = [month] + ([day] if day else [])
    return out


def features(model) -> list[dict]:
    """The contribution columns: every raw column, then every derived feature."""
    out = [{"name": name} for name in model.schema.names]
    seen = set(model.schema.names)
    for pipeline in _pipelines(model):
        for name, inputs in _derived_inputs(_steps(pipeline).get("derive")).items():
            if name not in seen:
                seen.add(name)
                out.append({"name": name, "inputs": inputs})
    return out


def _pipelines(model) -> list:
    members = getattr(model, "members", None)
    return [m.pipeline for m in members] if members else [model.pipeline]


def _layout(prep) -> list[tuple[str, float | None]]:
    """Per encoded column: (the column it came from, its centre for a linear
    model: 0 after a scaler, 1/levels for one-hot, None when unknown)."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    out: list[tuple[str, float | None]] = []
    for name, trans, cols in prep.transformers_:
        if trans == "drop" or (name == "remainder" and trans == "drop"):
            continue
        cols = list(cols)
        if isinstance(trans, OneHotEncoder):
            for i, col in enumerate(cols):
                levels = len(trans.categories_[i])
                dropped = getattr(trans, "drop_idx_", None)
                if dropped is not None and dropped[i] is not None:
                    levels -= 1
                out += [(col, 1.0 / levels)] * levels
            continue
        steps = [s for _, s in trans.steps] if isinstance(trans, Pipeline) else [trans]
        if not all(isinstance(s, SimpleImputer | StandardScaler) for s in steps):
            raise Unexplained(f"cannot trace {type(trans).__name__} outputs to their columns")
        scaled = any(isinstance(s, StandardScaler) for s in steps)
        out += [(col, 0.0 if scaled else None) for col in cols]
        for s in steps:
            indicator = getattr(s, "indicator_", None)
            if indicator is not None:
                out += [(cols[i], None) for i in indicator.features_]
    return out


def _grouping(prep, names: list[str], n_encoded: int) -> tuple[np.ndarray, np.ndarray]:
    """The [encoded, groups] 0/1 matrix and the per-encoded-column centres."""
    layout = _layout(prep)
    if len(layout) != n_encoded:
        raise Unexplained(f"traced {len(layout)} encoded columns, the model reads {n_encoded}")
    index = {n: k for k, n in enumerate(names)}
    M = np.zeros((n_encoded, len(names)))
    for j, (col, _) in enumerate(layout):
        M[j, index[col]] = 1.0
    centre = np.array([np.nan if c is None else c for _, c in layout])
    return M, centre


class _Member:
    """One pipeline's explanation: trees or a linear model, grouped to the contribution columns."""

    def __init__(self, pipeline, names: list[str]):
        steps = _steps(pipeline)
        self.derive, self.prep, self.estimator = steps.get("derive"), steps["prep"], steps["model"]
        n_encoded = int(self.estimator.n_features_in_)
        self.M, centre = _grouping(self.prep, names, n_encoded)
        kind = type(self.estimator).__name__
        if kind == "LogisticRegression":
            if np.isnan(centre).any():
                raise Unexplained("a logistic regression needs scaled numeric columns")
            coef = self.estimator.coef_[0].astype(np.float64)
            self.linear = (coef, centre, float(self.estimator.intercept_[0]))
            self.trees = None
            self.base = float(self.linear[2] + coef @ centre)
        else:
            self.linear = None
            self.trees = T.path_trees(self.estimator)
            # Per tree: [node, columns], the grouped deltas of each leaf (0 elsewhere).
            self.tables = []
            for table in self.trees.tables(n_encoded):
                dense = np.zeros((max(table) + 1, self.M.shape[1]))
                for leaf, vec in table.items():
                    dense[leaf] = vec @ self.M
                self.tables.append(dense)
            self.base_raw = self.trees.base()
            self.base = (
                _logit(self.base_raw) if self.trees.scale == T.PROBABILITY else self.base_raw
            )

    def python(self, X) -> np.ndarray:
        """[N, groups] float64 log-odds contributions of this member's probability."""
        Xd = self.derive.transform(X) if self.derive is not None else X
        X_enc = np.asarray(self.prep.transform(Xd), dtype=np.float64)
        if self.linear is not None:
            coef, centre, _ = self.linear
            return ((X_enc - centre) * coef) @ self.M
        leaves = self.trees.leaves(X_enc)
        out = np.zeros((len(X_enc), self.M.shape[1]))
        for t, table in enumerate(self.tables):
            out += table[leaves[:, t]]
        if self.trees.scale == T.PROBABILITY:
            p = self.estimator.predict_proba(X_enc)[:, 1].astype(np.float32).astype(np.float64)
            out *= _ratio(p, self.base_raw)[:, None]
        return out


def _logit(p):
    p = np.clip(np.asarray(p, dtype=np.float64), LOGIT_CLIP, 1 - LOGIT_CLIP)
    return np.log(p) - np.log1p(-p)


def _ratio(p: np.ndarray, base: float) -> np.ndarray:
    """(logit(p) - logit(base)) / (p - base): turns probability deltas that sum
    to p - base into log-odds deltas that sum to logit(p) - logit(base)."""
    p = np.clip(p, LOGIT_CLIP, 1 - LOGIT_CLIP)
    b = float(np.clip(base, LOGIT_CLIP, 1 - LOGIT_CLIP))
    d = p - b
    near = np.abs(d) < 1e-9
    safe = np.where(near, 1.0, d)
    return np.where(near, 1.0 / (b * (1 - b)), (_logit(p) - _logit(b)) / safe)


def _members(model, names) -> list[tuple[float, _Member]]:
    members = getattr(model, "members", None)
    if members:
        return [(m.weight, _Member(m.pipeline, names)) for m in members]
    return [(1.0, _Member(model.pipeline, names))]


def explain_python(model, X) -> tuple[np.ndarray, float]:
    """([N, columns] contributions, base) from the fitted pipelines, as the graph computes them."""
    names = [f["name"] for f in features(model)]
    X = X[model.schema.names]
    total = np.zeros((len(X), len(names)))
    base = 0.0
    for weight, member in _members(model, names):
        total += weight * member.python(X)
        base += weight * member.base
    if model.calibration is not None:
        total *= model.calibration.slope
        base = model.calibration.slope * base + model.calibration.intercept
    return total, base


def describe(model, base: float) -> dict:
    """What the metadata says about the `contributions` output."""
    linear = {type(_steps(p)["model"]).__name__ == "LogisticRegression" for p in _pipelines(model)}
    method = {frozenset({True}): "linear", frozenset({False}): "path (Saabas)"}.get(
        frozenset(linear), "path (Saabas) and linear"
    )
    return {
        "output": CONTRIBUTIONS,
        "method": method,
        "base": base,
        "features": features(model),
        "additive": not getattr(model, "members", None),
        "scale": "log-odds of the probability",
    }


def add_output(proto, model) -> dict:
    """Adds `contributions` [N, columns] to a graph built by export.graph.build_graph;
    returns the metadata entry. Raises Unexplained (graph untouched) when it cannot."""
    names = [f["name"] for f in features(model)]
    members = _members(model, names)
    g = proto.graph
    new_nodes, new_inits = [], []
    prefixes = [f"m{k}_" for k in range(len(members))] if len(members) > 1 else [""]
    terms = []
    for (weight, member), prefix in zip(members, prefixes, strict=True):
        node = _classifier_node(g, prefix)
        part = _member_nodes(member, node, prefix, new_nodes, new_inits)
        if len(members) > 1:
            w = N.init(new_inits, f"{prefix}explain_weight", weight)
            new_nodes.append(helper.make_node("Mul", [part, w], [f"{prefix}explain_weighted"]))
            part = f"{prefix}explain_weighted"
        terms.append(part)
    total = terms[0]
    if len(terms) > 1:
        new_nodes.append(helper.make_node("Sum", terms, ["explain_sum"]))
        total = "explain_sum"
    base = sum(w * m.base for w, m in members)
    if model.calibration is not None:
        slope = N.init(new_inits, "explain_slope", model.calibration.slope)
        new_nodes.append(helper.make_node("Mul", [total, slope], ["explain_calibrated"]))
        total = "explain_calibrated"
        base = model.calibration.slope * base + model.calibration.intercept
    new_nodes.append(helper.make_node("Cast", [total], ["explain_out"], to=TensorProto.FLOAT))
    N.gate(g, new_nodes, new_inits, len(names))
    return describe(model, float(base))


def _classifier_node(g, prefix: str):
    found = [
        n for n in g.node if n.op_type in TREE_OPS + LINEAR_OPS and n.output[-1].startswith(prefix)
    ]
    if len(found) != 1:
        raise Unexplained(f"expected one classifier node in the graph, found {len(found)}")
    return found[0]


def _member_nodes(member: _Member, node, prefix: str, nodes: list, inits: list) -> str:
    """Nodes giving this member's [N, columns] float64 log-odds contributions."""
    x = node.input[0]
    out = f"{prefix}explain_contrib"
    if member.linear is not None:
        if node.op_type not in LINEAR_OPS:
            raise Unexplained("the graph's classifier is not linear")
        coef, centre, _ = member.linear
        nodes += [
            helper.make_node("Cast", [x], [f"{prefix}explain_x"], to=TensorProto.DOUBLE),
            helper.make_node(
                "Sub",
                [f"{prefix}explain_x", N.init(inits, f"{prefix}explain_centre", centre[None, :])],
                [f"{prefix}explain_centred"],
            ),
            helper.make_node(
                "MatMul",
                [
                    f"{prefix}explain_centred",
                    N.init(inits, f"{prefix}explain_w", coef[:, None] * member.M),
                ],
                [out],
            ),
        ]
        return out
    if node.op_type not in TREE_OPS:
        raise Unexplained("the graph's classifier is not a tree ensemble")
    nodes.append(
        N.regressor(
            node, member.trees.trees, member.tables, member.M.shape[1], f"{prefix}explain_path"
        )
    )
    nodes.append(
        helper.make_node(
            "Cast", [f"{prefix}explain_path"], [f"{prefix}explain_path64"], to=TensorProto.DOUBLE
        )
    )
    if member.trees.scale == T.MARGIN:
        nodes.append(helper.make_node("Identity", [f"{prefix}explain_path64"], [out]))
        return out
    ratio = N.ratio_nodes(f"{prefix}p_raw", member.base_raw, prefix, nodes, inits)
    nodes.append(helper.make_node("Mul", [f"{prefix}explain_path64", ratio], [out]))
    return out


def metadata_for(proto, model) -> dict:
    """Adds the output when the model can be explained; the metadata entry either way."""
    try:
        return {"explanation": add_output(proto, model)}
    except Unexplained as exc:
        return {"explanation_unavailable": str(exc)}


def parity(session, model, X, feeds: dict) -> dict:
    """The graph's contributions against explain_python's, as parity.check reports them:
    |difference| / max(1, |python|) (a linear model's contribution grows with its input)."""
    expected, base = explain_python(model, X)
    (graph,) = session.run([CONTRIBUTIONS], {**feeds, EXPLAIN_INPUT: np.array(True)})
    diff = np.abs(graph.astype(np.float64) - expected) / np.maximum(1.0, np.abs(expected))
    return {"max_scaled_diff": float(diff.max()) if diff.size else 0.0, "base": base}
