"""A chunk's rows through the model in batches that fit the CPU's caches.

onnxruntime's tree kernel and the Concat before it work on the whole batch's
feature matrix: at 10,000 rows it no longer fits in L2, and on the marketing
model every row cost about 15 % more CPU than in batches of 1,024-2,048
(measured for #28). Rows are scored independently, so cutting a chunk
into batches gives every row the same probability bit for bit (the scored/
output's bytes are checked by tests/lambda_fn/batch/test_output_bytes.py).
"""

from __future__ import annotations

import numpy as np

from lambda_fn.model import Model

# Rows per onnxruntime call and per thread: 1,024-2,048 measured fastest on
# the marketing model (16 features, ~3,200 tree nodes); at 256 the per-call
# overhead starts to show.
BATCH_ROWS = 2048


def predict(model: Model, columns: dict[str, np.ndarray], *args) -> tuple[np.ndarray, ...]:
    """model.predict(columns, *args) on BATCH_ROWS rows per thread at a time;
    each of its outputs joined in row order."""
    rows = len(next(iter(columns.values())))
    step = BATCH_ROWS * max(1, model.threads)
    if rows <= step:
        return tuple(model.predict(columns, *args))
    parts = [
        model.predict({name: values[i : i + step] for name, values in columns.items()}, *args)
        for i in range(0, rows, step)
    ]
    return tuple(np.concatenate([part[k] for part in parts]) for k in range(len(parts[0])))
