"""What a candidate costs to serve: its ONNX graph's size and onnxruntime's
time per row on a batch, measured the way the Lambda function runs it."""

from __future__ import annotations

import time

import numpy as np

REPEATS = 25  # each run is about a millisecond: the minimum of many is the stable figure


def measure(model, X, threads: int = 1) -> tuple[int, float]:
    """(bytes of the serialised graph, best-of-REPEATS microseconds per row on X)."""
    import onnxruntime as ort

    from export.graph import build_graph
    from export.parity import feeds

    data = build_graph(model).SerializeToString()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    batch = feeds(X.reset_index(drop=True), model.schema)
    session.run(None, batch)  # warm-up
    best = np.inf
    for _ in range(REPEATS):
        started = time.perf_counter()
        session.run(None, batch)
        best = min(best, time.perf_counter() - started)
    return len(data), float(best / len(X) * 1e6)
