"""What a candidate costs to serve: its ONNX graph's size, onnxruntime's time
per row on a batch (the S3 path) and per call for one record (the API),
measured the way the Lambda function runs it."""

from __future__ import annotations

import time

import numpy as np

REPEATS = 25  # each run is about a millisecond: the minimum of many is the stable figure
RECORD_REPEATS = 200  # one record takes tens of microseconds; the API's target is a median


def measure(model, X, threads: int = 1) -> tuple[int, float, float]:
    """(bytes of the serialised graph, best-of-REPEATS microseconds per row on
    X, the median of RECORD_REPEATS calls for X's first row alone)."""
    import onnxruntime as ort

    from contract.feeds import from_frame
    from export.graph import build_graph

    data = build_graph(model).SerializeToString()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    batch = from_frame(X.reset_index(drop=True), model.schema)
    session.run(None, batch)  # warm-up
    per_row = _best(session, batch, REPEATS) / len(X)
    record = {name: column[:1] for name, column in batch.items()}
    session.run(None, record)
    return len(data), per_row * 1e6, float(np.median(_times(session, record, RECORD_REPEATS))) * 1e6


def _best(session, feeds: dict, repeats: int) -> float:
    return min(_times(session, feeds, repeats))


def _times(session, feeds: dict, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        session.run(None, feeds)
        times.append(time.perf_counter() - started)
    return times
