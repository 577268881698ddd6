"""ONNX nodes for the date features of train/dates.py.

The same steps in the same order: the float32 day number is clipped, floored
and cast to int64; month and day of the year come from the civil-from-days
algorithm in integer Div (truncating, equal to flooring on the non-negative
values it sees) and the day of the week from Mod; the differences are a
float32 Sub. Missing dates give NaN through Where(IsNaN).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import onnx
import pandas as pd
from onnx import TensorProto, helper, numpy_helper

from contract.kinds import BOOLEAN, DATE, EPOCH, ISO, NUMBER_TEXT, BadValue, parse_text
from contract.kinds import CIVIL_SHIFT as SHIFT
from contract.kinds import DAY_HI as HI_DAY
from contract.kinds import DAY_LO as LO_DAY


class _Builder:
    """Names and appends nodes; integer constants are shared initializers."""

    def __init__(self, graph: onnx.GraphProto, prefix: str):
        self.graph, self.prefix, self.nodes, self.k = graph, prefix, [], 0
        self.consts: dict = {}

    def const(self, value, dtype=np.int64) -> str:
        key = (float(value), np.dtype(dtype).str)
        if key not in self.consts:
            name = f"{self.prefix}c{len(self.consts)}"
            self.graph.initializer.append(
                numpy_helper.from_array(np.asarray(value, dtype=dtype), name)
            )
            self.consts[key] = name
        return self.consts[key]

    def op(self, op_type: str, *inputs, out: str | None = None, **attrs) -> str:
        self.k += 1
        out = out or f"{self.prefix}t{self.k}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def floordiv(self, a: str, n: int) -> str:
        return self.op("Div", a, self.const(n))

    def lin(self, a: str, mul: int, add: int = 0) -> str:
        out = self.op("Mul", a, self.const(mul))
        return self.op("Add", out, self.const(add)) if add else out


def _civil(b: _Builder, days: str) -> tuple[str, str]:
    """(year, month) int64 tensors of an int64 day-number tensor."""
    z = b.op("Add", days, b.const(SHIFT))
    era = b.floordiv(z, 146097)
    doe = b.op("Sub", z, b.lin(era, 146097))
    t = b.op("Sub", doe, b.floordiv(doe, 1460))
    t = b.op("Add", t, b.floordiv(doe, 36524))
    t = b.op("Sub", t, b.floordiv(doe, 146096))
    yoe = b.floordiv(t, 365)
    days_in = b.op("Add", b.lin(yoe, 365), b.floordiv(yoe, 4))
    days_in = b.op("Sub", days_in, b.floordiv(yoe, 100))
    doy = b.op("Sub", doe, days_in)
    mp = b.floordiv(b.lin(doy, 5, 2), 153)
    early = b.op("Less", mp, b.const(10))
    month = b.op("Where", early, b.op("Add", mp, b.const(3)), b.op("Sub", mp, b.const(9)))
    winter = b.op("Cast", b.op("LessOrEqual", month, b.const(2)), to=TensorProto.INT64)
    year = b.op("Add", b.op("Add", yoe, b.lin(era, 400)), winter)
    return year, month


def _january_first(b: _Builder, year: str) -> str:
    yy = b.op("Sub", year, b.const(1))
    era = b.floordiv(yy, 400)
    yoe = b.op("Sub", yy, b.lin(era, 400))
    doe = b.op("Add", b.lin(yoe, 365), b.floordiv(yoe, 4))
    doe = b.op("Add", b.op("Sub", doe, b.floordiv(yoe, 100)), b.const(306))
    return b.op("Sub", b.op("Add", b.lin(era, 146097), doe), b.const(SHIFT))


def _part(b: _Builder, column: str, which: str, name: str) -> None:
    missing = b.op("IsNaN", column)
    filled = b.op("Where", missing, b.const(0.0, np.float32), column)
    clipped = b.op("Clip", filled, b.const(LO_DAY, np.float32), b.const(HI_DAY, np.float32))
    days = b.op("Cast", b.op("Floor", clipped), to=TensorProto.INT64)
    if which == "weekday":
        value = b.op("Mod", b.op("Add", days, b.const(3)), b.const(7), fmod=0)
    else:
        year, month = _civil(b, days)
        if which == "month":
            value = month
        else:
            value = b.op("Add", b.op("Sub", days, _january_first(b, year)), b.const(1))
    as_float = b.op("Cast", value, to=TensorProto.FLOAT)
    b.op("Where", missing, b.const(np.nan, np.float32), as_float, out=name)


def calendar_nodes(graph: onnx.GraphProto, calendar) -> list[onnx.NodeProto]:
    """The nodes computing each (name, op, column, other) of `calendar` from
    the graph's inputs; their constants are added to `graph`."""
    nodes = []
    for k, (name, op, column, other) in enumerate(calendar):
        b = _Builder(graph, f"date{k}_")
        if op == "diff":
            b.op("Sub", column, other, out=name)
        else:
            _part(b, column, op, name)
        nodes += b.nodes
    return nodes


LEAP_DAY = date(2024, 2, 29)
MALFORMED = {DATE: "2023-02-30", BOOLEAN: "maybe", NUMBER_TEXT: "twelve"}


def written(day: date, fmt: str) -> str:
    """`day` as a client would send it in the trained format."""
    if fmt == EPOCH:
        return str((day - date(1970, 1, 1)).days * 86400)
    if fmt == ISO:
        return day.isoformat() + "T12:00:00Z"
    return day.strftime(fmt)


def edge_rows(base: pd.DataFrame, schema) -> list[pd.DataFrame]:
    """For each date column, the base rows on a leap day, read from the text a
    client sends by the contract's parser (a missing date is parity's missing row)."""
    variants = []
    for f in schema.features:
        if f.kind == DATE:
            leap = base.copy()
            leap[f.name] = np.float32(parse_text(DATE, f.format, written(LEAP_DAY, f.format)))
            variants.append(leap)
    return variants


def malformed_rejected(schema) -> dict[str, str]:
    """Column -> the message serving gives for a malformed value of each
    parsed-kind column (a 4xx / errors/ row); an accepted one fails parity."""
    out = {}
    for f in schema.features:
        if f.kind in MALFORMED:
            try:
                parse_text(f.kind, f.format, MALFORMED[f.kind])
            except BadValue as exc:
                out[f.name] = str(exc)
            else:
                out[f.name] = ""
    return out
