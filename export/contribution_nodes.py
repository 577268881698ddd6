"""The ONNX nodes behind `contributions` (export/contributions.py builds the values)."""

from __future__ import annotations

import math

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from export import tree_paths as T
from lambda_fn.reasons import CONTRIBUTIONS, EXPLAIN_INPUT, LOGIT_CLIP


def init(inits: list, name: str, value) -> str:
    """A float64 constant for the explanation's subgraph; returns its name."""
    inits.append(numpy_helper.from_array(np.asarray(value, dtype=np.float64), name))
    return name


def gate(g, nodes: list, inits: list, width: int) -> None:
    """`contributions` = If(EXPLAIN_INPUT, `nodes`, an empty [0, width]).

    onnxruntime runs every node of a graph whatever outputs a call fetches;
    behind the If, a call that does not set the flag (an input with a False
    default) skips the explanation and costs what it did before."""
    out = helper.make_tensor_value_info("explain_out", TensorProto.FLOAT, [None, width])
    then = helper.make_graph(nodes, "explain_then", [], [out], initializer=inits)
    empty = numpy_helper.from_array(np.zeros((0, width), dtype=np.float32), "explain_none")
    none = helper.make_tensor_value_info("explain_none", TensorProto.FLOAT, [None, width])
    otherwise = helper.make_graph(
        [helper.make_node("Constant", [], ["explain_none"], value=empty)],
        "explain_else",
        [],
        [none],
    )
    g.node.append(
        helper.make_node(
            "If", [EXPLAIN_INPUT], [CONTRIBUTIONS], then_branch=then, else_branch=otherwise
        )
    )
    g.initializer.append(numpy_helper.from_array(np.array(False), EXPLAIN_INPUT))
    g.input.append(helper.make_tensor_value_info(EXPLAIN_INPUT, TensorProto.BOOL, []))
    g.output.append(helper.make_tensor_value_info(CONTRIBUTIONS, TensorProto.FLOAT, [None, width]))


def regressor(node, trees, tables: list, width: int, output: str):
    """The classifier node's own trees (its splits, copied), each leaf's grouped
    deltas (tables[tree][model leaf]) as its targets: [N, width]."""
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    mapping = T.match_leaves(node, trees)
    treeids = sorted({int(t) for t in attrs["nodes_treeids"]})
    t_tree, t_node, t_id, t_weight = [], [], [], []
    for t, (treeid, leaves) in enumerate(zip(treeids, mapping, strict=True)):
        for onnx_id, k in sorted(leaves.items()):
            vec = tables[t][k]
            for g in np.flatnonzero(vec):
                t_tree.append(treeid)
                t_node.append(onnx_id)
                t_id.append(int(g))
                t_weight.append(float(vec[g]))
    keep = {k: v for k, v in attrs.items() if k.startswith("nodes_")}
    return helper.make_node(
        "TreeEnsembleRegressor",
        [node.input[0]],
        [output],
        domain="ai.onnx.ml",
        n_targets=width,
        target_treeids=t_tree,
        target_nodeids=t_node,
        target_ids=t_id,
        target_weights=t_weight,
        aggregate_function="SUM",
        post_transform="NONE",
        **keep,
    )


def ratio_nodes(p_raw: str, base: float, prefix: str, nodes: list, inits: list) -> str:
    """_ratio in ONNX nodes, per row as [N, 1] float64."""
    n = lambda s: f"{prefix}explain_{s}"  # noqa: E731
    b = float(np.clip(base, LOGIT_CLIP, 1 - LOGIT_CLIP))
    c = {
        "lo": LOGIT_CLIP,
        "hi": 1 - LOGIT_CLIP,
        "b": b,
        "logit_b": math.log(b / (1 - b)),
        "slope_b": 1.0 / (b * (1 - b)),
        "one": 1.0,
        "near": 1e-9,
        "shape": None,
    }
    for key, value in c.items():
        if value is not None:
            init(inits, n(key), value)
    inits.append(numpy_helper.from_array(np.array([-1, 1], dtype=np.int64), n("shape")))
    nodes += [
        helper.make_node("Cast", [p_raw], [n("p64")], to=TensorProto.DOUBLE),
        helper.make_node("Reshape", [n("p64"), n("shape")], [n("pcol")]),
        helper.make_node("Clip", [n("pcol"), n("lo"), n("hi")], [n("p")]),
        helper.make_node("Sub", [n("one"), n("p")], [n("q")]),
        helper.make_node("Div", [n("p"), n("q")], [n("odds")]),
        helper.make_node("Log", [n("odds")], [n("logit")]),
        helper.make_node("Sub", [n("logit"), n("logit_b")], [n("dlogit")]),
        helper.make_node("Sub", [n("p"), n("b")], [n("d")]),
        helper.make_node("Abs", [n("d")], [n("absd")]),
        helper.make_node("Less", [n("absd"), n("near")], [n("is_near")]),
        helper.make_node("Where", [n("is_near"), n("one"), n("d")], [n("safe")]),
        helper.make_node("Div", [n("dlogit"), n("safe")], [n("secant")]),
        helper.make_node("Where", [n("is_near"), n("slope_b"), n("secant")], [n("ratio")]),
    ]
    return n("ratio")
