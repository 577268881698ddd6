"""What the benchmarks feed the paths they measure: the data without its
target, repeated to a size or widened, and its first row as a request."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from bench.machine import ROOT

API_EVENT = ROOT / "infra" / "events" / "api-predict-v2.json"


def _without_target(data: Path, target: str) -> tuple[list[str], list[list[str]]]:
    """The data's header and rows, the target column left out (the model never sees it)."""
    with open(data, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        drop = header.index(target)
        rows = [[c for i, c in enumerate(r) if i != drop] for r in reader]
    return [h for i, h in enumerate(header) if i != drop], rows


def make_big_csv(data: Path, target: str, rows: int, out: Path) -> int:
    """The data's rows repeated until the file has `rows` of them."""
    names, body = _without_target(data, target)
    lines = [",".join(r) + "\n" for r in body]
    written = 0
    with open(out, "w") as fh:
        fh.write(",".join(names) + "\n")
        while written < rows:
            take = lines[: rows - written]
            fh.writelines(take)
            written += len(take)
    return written


def make_wide_csv(data: Path, target: str, columns: int, rows: int, out: Path) -> int:
    """The data's columns plus filler columns up to `columns`, `rows` rows."""
    names, body = _without_target(data, target)
    extra = max(0, columns - len(names))
    with open(out, "w") as fh:
        fh.write(",".join(names + [f"filler_{i}" for i in range(extra)]) + "\n")
        filler = ",0" * extra
        for i in range(rows):
            fh.write(",".join(body[i % len(body)]) + filler + "\n")
    return rows


def rows_for_mb(data: Path, mb: int) -> int:
    """About how many of the data's rows make a file of `mb` MB."""
    with open(data, "rb") as fh:
        sample = fh.read(1 << 20)
    row_bytes = max(1, len(sample) // max(1, sample.count(b"\n")))
    return (mb << 20) // row_bytes


def first_record(data: Path, schema) -> dict:
    """The data's first row as a /predict record, typed by the model's schema."""
    from contract.cells import cell_number
    from contract.schema import NUMERIC

    with open(data, newline="") as fh:
        row = next(csv.DictReader(fh))
    record = {}
    for f in schema.features:
        cell = row[f.name]
        if f.kind == NUMERIC:
            value = cell_number(cell)
            record[f.name] = None if value is None or value != value else value
        else:
            record[f.name] = cell
    return record


def api_event(record: dict) -> dict:
    """The sample API Gateway event with one record as its body."""
    event = json.loads(API_EVENT.read_text())
    event["body"] = json.dumps({"records": [record]})
    return event
