"""The date features: numpy (training) and ONNX (serving) against Python's calendar."""

from datetime import date, timedelta

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
from onnx import TensorProto, helper

from export.dates import calendar_nodes
from train.dates import add_calendar, candidates

EPOCH = date(1970, 1, 1)
CALENDAR = (
    ("m", "month", "a", ""),
    ("w", "weekday", "a", ""),
    ("yd", "yearday", "a", ""),
    ("d", "diff", "a", "b"),
)


def _days() -> np.ndarray:
    days = list(range(-800, 800)) + list(range(10_000, 30_000, 7))
    leap = [(date(y, 2, 29) - EPOCH).days for y in (1904, 2000, 2024, 2096)]
    return np.array(days + leap + [-700_000, 2_900_000], dtype=np.float32)


def _expected(days: np.ndarray):
    dates = [EPOCH + timedelta(days=int(d)) for d in days]
    return (
        np.array([d.month for d in dates], np.float32),
        np.array([d.weekday() for d in dates], np.float32),
        np.array([d.timetuple().tm_yday for d in dates], np.float32),
    )


def _graph_outputs(frame: pd.DataFrame) -> list[np.ndarray]:
    graph = helper.make_graph(
        [],
        "dates",
        [helper.make_tensor_value_info(c, TensorProto.FLOAT, [None, 1]) for c in ("a", "b")],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [None, 1]) for n, *_ in CALENDAR],
    )
    graph.node.extend(calendar_nodes(graph, CALENDAR))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {c: frame[c].to_numpy(np.float32).reshape(-1, 1) for c in ("a", "b")}
    return [out.ravel() for out in session.run(None, feeds)]


def test_calendar_parts_match_python_and_the_onnx_graph():
    days = _days()
    frame = pd.DataFrame({"a": days, "b": days[::-1].copy()})
    frame.loc[3, "a"] = np.nan  # a missing date
    frame["a"] = frame["a"] + np.float32(0.75)  # a timestamp's time of day is floored
    out = add_calendar(frame.copy(), CALENDAR)
    ok = ~np.isnan(frame["a"].to_numpy())
    month, weekday, yearday = _expected(np.floor(frame["a"].to_numpy()[ok]))
    assert np.array_equal(out["m"].to_numpy()[ok], month)
    assert np.array_equal(out["w"].to_numpy()[ok], weekday)
    assert np.array_equal(out["yd"].to_numpy()[ok], yearday)
    assert np.isnan(out.loc[3, ["m", "w", "yd", "d"]].to_numpy(np.float64)).all()
    for name, got in zip([n for n, *_ in CALENDAR], _graph_outputs(frame), strict=True):
        assert np.array_equal(got, out[name].to_numpy(np.float32), equal_nan=True), name


def test_extreme_day_numbers_agree_between_numpy_and_onnx():
    frame = pd.DataFrame(
        {
            "a": np.array([1e12, -1e12, 3.4e38, -3.4e38, 0.0], np.float32),
            "b": np.zeros(5, np.float32),
        }
    )
    out = add_calendar(frame.copy(), CALENDAR)
    for name, got in zip([n for n, *_ in CALENDAR], _graph_outputs(frame), strict=True):
        assert np.array_equal(got, out[name].to_numpy(np.float32), equal_nan=True), name


def test_candidates_take_parts_and_the_later_minus_the_earlier():
    frame = pd.DataFrame({"start": [100.0, 200.0], "end": [300.0, 400.0], "month": [0.0, 31.0]})
    found = candidates(
        frame, [("start", "%Y-%m-%d"), ("end", "%d/%m/%Y"), ("month", "%Y-%m")], set()
    )
    ops = [(op, c, o) for _, op, c, o in found]
    assert ("diff", "end", "start") in ops
    assert [op for op, c, _ in ops if c == "month" and op != "diff"] == ["month"]
    assert ("weekday", "month", "") not in ops
