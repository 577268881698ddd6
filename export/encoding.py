"""The ONNX converter of train/encoding.py's LookupEncoder: one string -> float
LabelEncoder (ai.onnx.ml) holding the fitted table, the default for unseen
values, so the graph looks up exactly the float32 values training used."""

from __future__ import annotations


def _shape(operator) -> None:
    from skl2onnx.common.data_types import FloatTensorType

    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([n, 1])


def _convert(scope, operator, container) -> None:
    encoder = operator.raw_operator
    container.add_node(
        "LabelEncoder",
        [operator.inputs[0].full_name],
        [operator.outputs[0].full_name],
        op_domain="ai.onnx.ml",
        op_version=2,
        name=scope.get_unique_operator_name("Lookup"),
        keys_strings=[str(k) for k in encoder.keys_],
        values_floats=[float(v) for v in encoder.table_],
        default_float=float(encoder.default_),
    )


def register() -> None:
    """Make skl2onnx convert LookupEncoder (called with the other converters)."""
    from skl2onnx import update_registered_converter

    from train.encoding import LookupEncoder

    update_registered_converter(LookupEncoder, "ImbalancedLookupEncoder", _shape, _convert)
