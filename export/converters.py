"""The converters behind export/graph.py: skl2onnx for the fitted
preprocessing and scikit-learn learners (with onnxmltools' registered for
XGBoost and LightGBM), tf2onnx for a Keras network, and the float32 snapping
of tree thresholds that keeps the graph's splits those of training."""

from __future__ import annotations

import numpy as np
import onnx

from contract.schema import NUMERIC

OPSET = 17
ML_OPSET = 3


def register_converters() -> None:
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes

    options = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    from export.encoding import register as register_lookups

    register_lookups()  # train/encoding.py's LookupEncoder
    try:
        from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
        from xgboost import XGBClassifier

        update_registered_converter(
            XGBClassifier,
            "XGBoostXGBClassifier",
            calculate_linear_classifier_output_shapes,
            convert_xgboost,
            options=options,
        )
    except ImportError:  # pragma: no cover - both are pinned in requirements/train.txt
        pass
    try:
        from lightgbm import LGBMClassifier
        from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm

        update_registered_converter(
            LGBMClassifier,
            "LightGbmLGBMClassifier",
            calculate_linear_classifier_output_shapes,
            convert_lightgbm,
            options=options,
        )
    except ImportError:  # pragma: no cover
        pass


def _floor_to_float32(values: np.ndarray) -> np.ndarray:
    """The largest float32 <= each value. For any float32 x, `x <= t` and
    `x <= floor32(t)` agree, so a tree keeps its decisions while its
    thresholds become exactly representable in the float32 ONNX graph."""
    values = np.asarray(values, dtype=np.float64)
    rounded = values.astype(np.float32)
    too_big = rounded.astype(np.float64) > values
    rounded[too_big] = np.nextafter(rounded[too_big], np.float32(-np.inf))
    return rounded.astype(np.float64)


def snap_tree_thresholds(estimator):
    """A copy of `estimator` whose split thresholds are float32 values.

    Training data reaches scikit-learn trees as float32 but thresholds are
    float64 midpoints; after SMOTE, a midpoint can round *up* to the next
    float32 value, and a row equal to that value would go the other way in
    the graph. LightGBM compares in float64 against float64 thresholds: same cure.
    """
    import copy

    from sklearn.tree import BaseDecisionTree

    estimator = copy.deepcopy(estimator)
    trees = []
    if isinstance(estimator, BaseDecisionTree):
        trees = [estimator]
    elif hasattr(estimator, "estimators_"):
        trees = [
            t
            for t in np.ravel(np.asarray(estimator.estimators_, dtype=object))
            if isinstance(t, BaseDecisionTree)
        ]
    for tree in trees:
        th = tree.tree_.threshold
        split = tree.tree_.children_left != -1
        th[split] = _floor_to_float32(th[split])
    if type(estimator).__name__ == "LGBMClassifier":
        import re

        import lightgbm

        text = estimator.booster_.model_to_string()

        def snap(match):
            numbers = np.array(match.group(2).split(), dtype=np.float64)
            return match.group(1) + " ".join(repr(float(v)) for v in _floor_to_float32(numbers))

        text = re.sub(r"^(threshold=)(.*)$", snap, text, flags=re.MULTILINE)
        # The header lists each tree's byte length; the edit changed them.
        text = re.sub(r"^tree_sizes=.*\n", "", text, flags=re.MULTILINE)
        estimator._Booster = lightgbm.Booster(model_str=text)
    return estimator


def _initial_types(names_kinds: list[tuple[str, str]]):
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    return [
        (name, FloatTensorType([None, 1]) if kind == NUMERIC else StringTensorType([None, 1]))
        for name, kind in names_kinds
    ]


def convert_sklearn(estimator, inputs, options=None):
    from skl2onnx import convert_sklearn

    proto = convert_sklearn(
        estimator,
        initial_types=_initial_types(inputs),
        options=options or {},
        target_opset={"": OPSET, "ai.onnx.ml": ML_OPSET},
    )
    # skl2onnx turns "account length" into "account_length"; the contract is
    # that inputs carry the CSV's column names exactly.
    for value, (name, _) in zip(list(proto.graph.input), inputs, strict=True):
        if value.name != name:
            rename(proto.graph, value.name, name)
    return proto


def keras_graph(network, n_features: int) -> onnx.ModelProto:
    import tensorflow as tf
    import tf2onnx

    spec = (tf.TensorSpec((None, n_features), tf.float32, name="features"),)

    @tf.function
    def forward(features):
        return network(features, training=False)

    model, _ = tf2onnx.convert.from_function(forward, input_signature=spec, opset=OPSET)
    return model


def rename(g: onnx.GraphProto, old: str, new: str) -> None:
    """Rename a tensor everywhere in `g`: node inputs and outputs, graph inputs and outputs."""
    for node in g.node:
        for seq in (node.input, node.output):
            for k, name in enumerate(seq):
                if name == old:
                    seq[k] = new
    for value in (*g.input, *g.output):
        if value.name == old:
            value.name = new
