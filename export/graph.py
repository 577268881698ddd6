"""Build one ONNX graph: raw columns in, `probability` and `label` out.

The fitted preprocessing and the classifier are converted by skl2onnx (with
onnxmltools' converters registered for XGBoost and LightGBM); a Keras network
is converted by tf2onnx and joined to the preprocessing graph with
onnx.compose. Derived features, the ensemble average, calibration and the
threshold are a few plain ONNX nodes added here. An ensemble is its members'
graphs side by side on the shared inputs, averaged inside the same graph.
One opset for every piece.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from contract.schema import NUMERIC
from export.converters import (
    ML_OPSET,
    OPSET,
    convert_sklearn,
    keras_graph,
    register_converters,
    rename,
    snap_tree_thresholds,
)
from export.dates import calendar_nodes

PROBABILITY = "probability"
LABEL = "label"


class UnsupportedModel(Exception):
    """The run's learner has no converter here."""


def _piece(pipeline, schema) -> onnx.ModelProto:
    """One fitted pipeline as a graph: raw columns in, its derived features
    computed in front, the positive-class probability out as `p_raw` [N] float32."""
    from sklearn.pipeline import Pipeline

    from train.keras_model import KerasMLPClassifier

    steps = {n: s for n, s in pipeline.steps if n != "sampler"}
    derive = steps.get("derive")
    derived = _derived_names(derive)
    raw_inputs = [(f.name, f.input_kind) for f in schema.features]
    inputs = raw_inputs + [(name, NUMERIC) for name in derived]
    estimator = steps["model"]
    prep = steps["prep"]

    if isinstance(estimator, KerasMLPClassifier):
        prep_graph = convert_sklearn(Pipeline([("prep", prep)]), inputs)
        prep_out = prep_graph.graph.output[0].name
        net = keras_graph(estimator.model_, estimator.n_features_in_)
        net_in = net.graph.input[0].name
        net = onnx.compose.add_prefix(net, prefix="net_")
        merged = onnx.compose.merge_models(
            _to_opset(prep_graph), _to_opset(net), io_map=[(prep_out, "net_" + net_in)]
        )
        positive = merged.graph.output[-1].name
        graph = merged
        positive_column = None
    else:
        estimator = snap_tree_thresholds(estimator)
        try:
            graph = convert_sklearn(
                Pipeline([("prep", prep), ("model", estimator)]),
                inputs,
                options={id(estimator): {"zipmap": False}},
            )
        except RuntimeError as exc:
            raise UnsupportedModel(
                f"no ONNX converter for {type(estimator).__name__}: {exc}"
            ) from exc
        probabilities = [o.name for o in graph.graph.output if o.name != "label"]
        positive = probabilities[0]
        positive_column = 1
    graph = _to_opset(graph)
    if positive_column is not None:
        margin_positive = _binary_trees_as_margin(graph)
        if margin_positive is not None:
            positive, positive_column = margin_positive, None
    g = graph.graph
    for taken in (PROBABILITY, LABEL, "p_raw"):
        rename(g, taken, f"converter_{taken}")
    if positive in (PROBABILITY, LABEL, "p_raw"):
        positive = f"converter_{positive}"
    _add_derived(g, derive)
    tail = []
    if positive_column is not None:
        idx = _const(g, "positive_index", [positive_column], np.int64)
        tail.append(helper.make_node("Gather", [positive, idx], ["p_col"], axis=1))
        src = "p_col"
    else:
        src = positive
    shape = _const(g, "flat_shape", [-1], np.int64)
    tail.append(helper.make_node("Reshape", [src, shape], ["p_raw"]))
    g.node.extend(tail)
    del g.output[:]
    g.output.extend([helper.make_tensor_value_info("p_raw", TensorProto.FLOAT, [None])])
    _prune(graph)
    return graph


def _derived_names(derive) -> list[str]:
    if derive is None:
        return []
    return (
        [n for n, _ in derive.sums]
        + [n for n, _ in derive.missing]
        + [n for n, _, _ in derive.sentinels]
        + [n for n, _, _, _ in derive.dates]
        + [n for n, _, _, _ in derive.calendar]
    )


def _add_derived(g: onnx.GraphProto, derive) -> None:
    """The derived features as nodes in front: the same float32 operations as
    train.features.DerivedFeatures (sums left to right, IsNaN, Equal, and a
    LabelEncoder from the month values seen in training, NaN for any other)."""
    derived = set(_derived_names(derive))
    if not derived:
        return
    kept_inputs = [i for i in g.input if i.name not in derived]
    del g.input[:]
    g.input.extend(kept_inputs)
    nodes = []
    for name, parts in derive.sums:
        acc = parts[0]
        for k, part in enumerate(parts[1:]):
            out = name if k == len(parts) - 2 else f"{name}__sum{k}"
            nodes.append(helper.make_node("Add", [acc, part], [out]))
            acc = out
    for name, column in derive.missing:
        nodes += [
            helper.make_node("IsNaN", [column], [f"{name}__bool"]),
            helper.make_node("Cast", [f"{name}__bool"], [name], to=TensorProto.FLOAT),
        ]
    for k, (name, column, value) in enumerate(derive.sentinels):
        const = _const(g, f"sentinel_value_{k}", [[value]])
        nodes += [
            helper.make_node("Equal", [column, const], [f"{name}__bool"]),
            helper.make_node("Cast", [f"{name}__bool"], [name], to=TensorProto.FLOAT),
        ]
    for name, month, day, lookup in derive.dates:
        start = name if day is None else f"{name}__start"
        nodes.append(
            helper.make_node(
                "LabelEncoder",
                [month],
                [start],
                domain="ai.onnx.ml",
                keys_strings=[value for value, _ in lookup],
                values_floats=[offset for _, offset in lookup],
                default_float=float("nan"),
            )
        )
        if day is not None:
            nodes.append(helper.make_node("Add", [start, day], [name]))
    nodes += calendar_nodes(g, derive.calendar)  # export/dates.py
    existing = list(g.node)
    del g.node[:]
    g.node.extend(nodes + existing)


def _prefixed(piece: onnx.ModelProto, prefix: str) -> onnx.ModelProto:
    """Every name in `piece` but its inputs, prefixed: pieces can share one graph."""
    g = piece.graph
    keep = {i.name for i in g.input}

    def rename(name: str) -> str:
        return name if (not name or name in keep) else prefix + name

    for node in g.node:
        node.name = prefix + node.name if node.name else node.name
        node.input[:] = [rename(n) for n in node.input]
        node.output[:] = [rename(n) for n in node.output]
    for init in g.initializer:
        init.name = rename(init.name)
    for value in (*g.output, *g.value_info):
        value.name = rename(value.name)
    return piece


def _ensemble_graph(model) -> onnx.ModelProto:
    """The members' graphs side by side on shared inputs, then the weighted
    average of their probabilities (in float64, as WeightedAverage computes it)."""
    pieces = [
        _prefixed(_piece(m.pipeline, model.schema), f"m{k}_") for k, m in enumerate(model.members)
    ]
    merged = pieces[0]
    g = merged.graph
    for piece in pieces[1:]:
        g.node.extend(piece.graph.node)
        g.initializer.extend(piece.graph.initializer)
        g.value_info.extend(piece.graph.value_info)
    nodes, weighted = [], []
    for k, m in enumerate(model.members):
        w = _const(g, f"ensemble_weight_{k}", m.weight, np.float64)
        nodes += [
            helper.make_node("Cast", [f"m{k}_p_raw"], [f"m{k}_p64"], to=TensorProto.DOUBLE),
            helper.make_node("Mul", [f"m{k}_p64", w], [f"m{k}_weighted"]),
        ]
        weighted.append(f"m{k}_weighted")
    lo = _const(g, "ensemble_lo", 0.0, np.float64)
    hi = _const(g, "ensemble_hi", 1.0, np.float64)
    nodes += [
        helper.make_node("Sum", weighted, ["ensemble_p64"]),
        helper.make_node("Clip", ["ensemble_p64", lo, hi], ["ensemble_clipped"]),
        helper.make_node("Cast", ["ensemble_clipped"], ["p_raw"], to=TensorProto.FLOAT),
    ]
    g.node.extend(nodes)
    del g.output[:]
    g.output.extend([helper.make_tensor_value_info("p_raw", TensorProto.FLOAT, [None])])
    return merged


def build_graph(model) -> onnx.ModelProto:
    """`model` is train.trained.TrainedModel (one pipeline or a weighted
    ensemble); returns the graph without metadata."""
    register_converters()
    graph = _ensemble_graph(model) if model.members else _piece(model.pipeline, model.schema)
    _finish(graph, model)
    graph.graph.name = "imbalanced_classifier"  # converters pick random names; keep the hash stable
    onnx.checker.check_model(graph)
    return graph


def _binary_trees_as_margin(model_proto: onnx.ModelProto) -> str | None:
    """Swap a binary logistic TreeEnsembleClassifier (what onnxmltools writes
    for XGBoost) for a TreeEnsembleRegressor on the margin and a Sigmoid.

    Same trees, same sums; onnxruntime's regressor kernel skips the
    classifier's per-class bookkeeping and runs faster on the
    1000-tree default model. Returns the [N, 1] positive-probability tensor,
    or None when the graph has no such node (parity still checks the result).
    """
    g = model_proto.graph
    for k, node in enumerate(g.node):
        if node.op_type != "TreeEnsembleClassifier":
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        post = attrs.get("post_transform", b"NONE")
        labels = list(attrs.get("classlabels_int64s", []))
        if post not in (b"LOGISTIC", "LOGISTIC") or labels != [0, 1]:
            return None
        if set(attrs.get("class_ids", [])) != {0} or len(attrs.get("base_values", [0])) != 1:
            return None
        regressor = {key: value for key, value in attrs.items() if key.startswith("nodes_")}
        regressor.update(
            target_ids=attrs["class_ids"],
            target_nodeids=attrs["class_nodeids"],
            target_treeids=attrs["class_treeids"],
            target_weights=attrs["class_weights"],
            n_targets=1,
            post_transform="NONE",
            aggregate_function="SUM",
        )
        if "base_values" in attrs:
            regressor["base_values"] = attrs["base_values"]
        margin = f"{node.output[1]}_margin"
        positive = f"{node.output[1]}_positive"
        new_nodes = [
            helper.make_node(
                "TreeEnsembleRegressor", [node.input[0]], [margin], domain="ai.onnx.ml", **regressor
            ),
            helper.make_node("Sigmoid", [margin], [positive]),
        ]
        nodes = list(g.node)
        del g.node[:]
        g.node.extend(nodes[:k] + new_nodes + nodes[k + 1 :])
        return positive
    return None


def _to_opset(model_proto: onnx.ModelProto) -> onnx.ModelProto:
    """Every piece at the same pinned opset (the converters emit the lowest that works)."""
    from onnx import version_converter

    current = {o.domain or "": o.version for o in model_proto.opset_import}
    if current.get("", OPSET) != OPSET:
        model_proto = version_converter.convert_version(model_proto, OPSET)
    # The ai.onnx.ml operators used here (Imputer, Scaler, OneHotEncoder, trees,
    # LabelEncoder) are backward compatible up to version 3: declare one version
    # everywhere so that onnx.compose can merge the pieces.
    del model_proto.opset_import[:]
    model_proto.opset_import.extend(
        [helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)]
    )
    return model_proto


def _const(graph: onnx.GraphProto, name: str, value, dtype=np.float32) -> str:
    graph.initializer.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
    return name


def _finish(model_proto, model) -> None:
    """Behind `p_raw`: calibration, then `probability` and `label` (threshold)."""
    g = model_proto.graph
    tail = []
    if model.calibration is not None:
        from train.evaluate import EPS

        f64 = np.float64
        lo = _const(g, "cal_lo", EPS, f64)
        hi = _const(g, "cal_hi", 1 - EPS, f64)
        one = _const(g, "cal_one", 1.0, f64)
        slope = _const(g, "cal_slope", model.calibration.slope, f64)
        intercept = _const(g, "cal_intercept", model.calibration.intercept, f64)
        # In float64, like PlattCalibration.apply, from the float32 probability.
        tail += [
            helper.make_node("Cast", ["p_raw"], ["p_raw64"], to=TensorProto.DOUBLE),
            helper.make_node("Clip", ["p_raw64", lo, hi], ["p_clip"]),
            helper.make_node("Log", ["p_clip"], ["log_p"]),
            helper.make_node("Sub", [one, "p_clip"], ["q_clip"]),
            helper.make_node("Log", ["q_clip"], ["log_q"]),
            helper.make_node("Sub", ["log_p", "log_q"], ["logit_p"]),
            helper.make_node("Mul", ["logit_p", slope], ["cal_scaled"]),
            helper.make_node("Add", ["cal_scaled", intercept], ["cal_z"]),
            helper.make_node("Sigmoid", ["cal_z"], ["p_cal64"]),
            helper.make_node("Cast", ["p_cal64"], ["p_cal"], to=TensorProto.FLOAT),
        ]
        src = "p_cal"
        decide, threshold = "p_cal64", _const(g, "threshold", model.threshold, f64)
    else:
        src = "p_raw"
        decide, threshold = PROBABILITY, _const(g, "threshold", model.threshold)
    tail.append(helper.make_node("Identity", [src], [PROBABILITY]))
    tail += [
        helper.make_node("GreaterOrEqual", [decide, threshold], ["is_positive"]),
        helper.make_node("Cast", ["is_positive"], [LABEL], to=TensorProto.INT64),
    ]
    g.node.extend(tail)
    del g.output[:]
    g.output.extend(
        [
            helper.make_tensor_value_info(PROBABILITY, TensorProto.FLOAT, [None]),
            helper.make_tensor_value_info(LABEL, TensorProto.INT64, [None]),
        ]
    )
    _prune(model_proto)


def _prune(model_proto: onnx.ModelProto) -> None:
    """Drop nodes that no longer feed an output (the converters' label/ZipMap branches)."""
    g = model_proto.graph
    needed = {o.name for o in g.output}
    keep = []
    for node in reversed(list(g.node)):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(i for i in node.input if i)
    keep.reverse()
    del g.node[:]
    g.node.extend(keep)
    used_inits = [i for i in g.initializer if i.name in needed]
    del g.initializer[:]
    g.initializer.extend(used_inits)


def content_hash(model_proto: onnx.ModelProto) -> str:
    """A model version that changes exactly when the computation changes."""
    bare = onnx.ModelProto()
    bare.CopyFrom(model_proto)
    del bare.metadata_props[:]
    return hashlib.sha256(bare.SerializeToString(deterministic=True)).hexdigest()[:16]


def set_metadata(model_proto: onnx.ModelProto, props: dict) -> None:
    del model_proto.metadata_props[:]
    for key, value in props.items():
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        model_proto.metadata_props.append(onnx.StringStringEntryProto(key=key, value=text))
