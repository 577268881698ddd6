"""Where onnxruntime's own time goes on a batch: kernel time per operator type."""

from __future__ import annotations

import collections
import csv
import itertools
import json
import tempfile
from pathlib import Path

from bench.inputs import make_big_csv


def _feeds(csv_path: Path, schema, limit: int) -> dict:
    """The file's first `limit` rows as the graph's inputs, each cell read as serving reads it."""
    from contract.cells import MISSING_TOKENS, cell_number, read_category
    from contract.feeds import column_feed, typed_column
    from contract.kinds import PARSED_KINDS
    from contract.schema import NUMERIC

    columns = {f.name: [] for f in schema.features}
    with open(csv_path, newline="") as fh:
        for row in itertools.islice(csv.DictReader(fh), limit):
            for f in schema.features:
                cell = row[f.name]
                if f.kind in PARSED_KINDS:  # parsed by typed_column, as serving parses them
                    columns[f.name].append(None if cell.strip() in MISSING_TOKENS else cell)
                elif f.kind == NUMERIC:
                    number = cell_number(cell)
                    columns[f.name].append(float("nan") if number is None else number)
                else:
                    columns[f.name].append(read_category(cell))
    return {
        f.name: typed_column(f, columns[f.name]).reshape(-1, 1)
        if f.kind in PARSED_KINDS
        else column_feed(f.input_kind, columns[f.name])
        for f in schema.features
    }


def operator_profile(run: Path, data: Path, target: str, rows: int = 50_000) -> dict:
    """Share of onnxruntime kernel time per operator type, one thread, on
    `rows` rows scored a chunk at a time, as the batch path scores them."""
    import onnxruntime as ort

    from lambda_fn.batch.csv_reader import MAX_CHUNK_FIELDS
    from lambda_fn.config import Config
    from lambda_fn.model import Model

    model = Model.load(str(run / "model.onnx"))
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "sample.csv"
        make_big_csv(data, target, rows, csv_path)
        with open(csv_path, newline="") as fh:
            width = len(next(csv.reader(fh)))
        feeds = _feeds(csv_path, model.schema, rows)
        step = min(Config().chunk_rows, max(1, MAX_CHUNK_FIELDS // width))
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "ort-profile")
        session = ort.InferenceSession(model.data, options)
        for i in range(0, rows, step):
            session.run(None, {name: values[i : i + step] for name, values in feeds.items()})
        events = json.loads(Path(session.end_profiling()).read_text())
    totals = collections.Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            totals[event["args"]["op_name"]] += event["dur"]
    whole = sum(totals.values()) or 1
    return {op: round(t / whole, 3) for op, t in totals.most_common(5)}
