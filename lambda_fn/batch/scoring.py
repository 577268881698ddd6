"""Chunks of CSV records -> scored rows and error rows, with the model.

Cells are read as training reads them (numbers, missing tokens, padded
categories); a row with a cell that is not a number is rejected with its line
and column, and the others are scored. Outputs go to any writer of bytes (an
S3Writer, a file, a BytesIO), so the same functions serve a whole object or a
byte range of it: the rows come out in input order, with no header, and the
counts and timings add up across ranges.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import NamedTuple, Protocol

import numpy as np

from contract.cells import FLOAT32_MAX, cell_number, number_problem, read_category
from contract.kinds import PARSED_KINDS, parsed_cells
from contract.schema import NUMERIC
from lambda_fn import reasons
from lambda_fn.batch import inference
from lambda_fn.batch.csv_reader import Chunk
from lambda_fn.model import Model

ERROR_HEADER = ["line", "column", "value", "reason"]
# What a spreadsheet takes for the start of a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert_cell(value):
    """A cell echoed from the input, made inert for spreadsheets: text that
    starts like a formula gets a leading single quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class Writer(Protocol):
    def write(self, data: bytes) -> object: ...


@dataclass
class Tally:
    """Rows and seconds so far; rows_in = rows_scored + rows_rejected holds
    after every chunk."""

    rows_in: int = 0
    rows_scored: int = 0
    rows_rejected: int = 0
    parse_seconds: float = 0.0
    score_seconds: float = 0.0
    write_seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if k.startswith("rows_")}

    def timings(self) -> dict[str, float]:
        return {k: v for k, v in asdict(self).items() if k.endswith("_seconds")}


class Columns(NamedTuple):
    """Where the model's features sit in a file's rows, and every column's name."""

    width: int
    index: dict[str, int]
    names: tuple[str, ...] = ()


class CsvRows:
    """Rows (lists of values) as CSV text to a writer of bytes, flushed after
    each call; every text cell goes through `cell` (inert_cell for errors/)."""

    def __init__(self, writer: Writer, cell=None):
        self.writer = writer
        self.cell = cell
        self.text = io.StringIO()
        self.csv = csv.writer(self.text, lineterminator="\n")
        # The csv module quotes a field with a line feed but not one with a
        # bare carriage return (the line terminator here is LF): rows holding
        # one are written with every field quoted, so no reader splits them.
        self.quoted = csv.writer(self.text, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def rows(self, rows) -> None:
        if self.cell is not None:
            rows = [[self.cell(v) for v in row] for row in rows]
        for row in rows:
            if any(isinstance(v, str) and "\r" in v for v in row):
                self.quoted.writerow(row)
            else:
                self.csv.writerow(row)
        self.flush()

    def flush(self) -> None:
        data = self.text.getvalue()
        if data:
            self.writer.write(data.encode("utf-8"))
            self.text.seek(0)
            self.text.truncate()


class Outputs:
    """Where scoring goes: scored rows and error rows as CSV bytes to any two
    writers, and the tally of rows and seconds."""

    def __init__(self, scored: Writer, errors: Writer, explain: int = 0):
        self.scored = scored
        self.explain = explain  # top reasons per scored row (EXPLAIN_TOP_K)
        self.errors = CsvRows(errors, inert_cell)
        self.tally = Tally()


def header_problems(header: list[str] | None, model: Model) -> list[list]:
    """Error rows ([1, column, "", reason]) that reject the file; [] when it can be scored."""
    if not header:
        return [[1, "", "", "the file is empty: expected a header row"]]
    names = [h.strip() for h in header]
    dupes = sorted({n for n in names if names.count(n) > 1 and n in model.schema.names})
    problems = [[1, n, "", "column appears more than once in the header"] for n in dupes]
    missing = [n for n in model.schema.names if n not in names]
    problems += [[1, n, "", "required column missing from the header"] for n in missing]
    return problems


def feature_columns(header: list[str], model: Model) -> Columns:
    """For a header without header_problems."""
    names = [h.strip() for h in header]
    index = {name: names.index(name) for name in model.schema.names}
    return Columns(len(names), index, tuple(names))


def scored_header(header_raw: str, explain: int = 0) -> bytes:
    """The scored output's first line: the input header as it came, then the
    two outputs (and the reason columns when EXPLAIN_TOP_K is set)."""
    return (header_raw + ",probability,label" + reasons.header(explain) + "\n").encode("utf-8")


def score_chunks(chunks: Iterable[Chunk], columns: Columns, model: Model, out: Outputs) -> None:
    """score_chunk for every chunk; the time spent reading them counts as parsing.

    A read error raised by `chunks` propagates, after every row read before
    it has been scored and counted."""
    chunks = iter(chunks)
    while True:
        t = time.perf_counter()
        chunk = next(chunks, None)
        out.tally.parse_seconds += time.perf_counter() - t
        if chunk is None:
            return
        score_chunk(chunk, columns, model, out)


def score_chunk(chunk: Chunk, columns: Columns, model: Model, out: Outputs) -> None:
    """The chunk's good rows to out.scored (input text, probability, label),
    its rejected rows to out.errors in line order, and the counts to out.tally."""
    t = time.perf_counter()
    tally = out.tally
    chunk = without_nul_rows(chunk, columns)
    width, index = columns.width, columns.index
    bad = list(chunk.rejected)
    lines, raws = chunk.lines, chunk.raws
    keep = None
    values_of = {}
    for f in model.schema.features:
        cells = chunk.fields[index[f.name] :: width]
        if f.kind in PARSED_KINDS or f.kind == NUMERIC:
            values, problems = parsed_cells(f, cells) if f.kind in PARSED_KINDS else numbers(cells)
            if problems:
                keep = np.ones(len(raws), dtype=bool) if keep is None else keep
                for j, value, *why in problems:
                    bad.append([lines[j], f.name, value, why[0] if why else number_problem(value)])
                    keep[j] = False
        else:
            values = np.array(categories(cells), dtype=object)
        values_of[f.name] = values.reshape(-1, 1)
    tally.rows_in += len(raws) + len(chunk.rejected)
    if keep is not None:
        values_of = {name: values[keep] for name, values in values_of.items()}
        raws = [raw for raw, k in zip(raws, keep.tolist(), strict=True) if k]
    tally.parse_seconds += time.perf_counter() - t
    if raws:
        t = time.perf_counter()
        if out.explain:
            probability, label, contributions = reasons.score(model, values_of)
        else:
            probability, label = inference.predict(model, values_of)
        tally.score_seconds += time.perf_counter() - t
        t = time.perf_counter()
        tails = reasons.cells(model, contributions, out.explain, _csv_cell) if out.explain else None
        out.scored.write(scored_rows(raws, probability, label, model.labels, tails))
        tally.write_seconds += time.perf_counter() - t
    tally.rows_scored += len(raws)
    tally.rows_rejected += len(chunk.lines) + len(chunk.rejected) - len(raws)
    if bad:
        bad.sort(key=lambda r: r[0])
        out.errors.rows(bad)


NUL_REASON = "holds a NUL byte (shown as \\x00), which no text cell holds"


def without_nul_rows(chunk: Chunk, columns: Columns) -> Chunk:
    """The chunk with its rows that hold a NUL byte moved to `rejected`, each
    naming the first column that holds one: a stray NUL costs its row, never
    the file (and never reaches the scored output)."""
    raws = chunk.raws
    if "\x00" not in "\n".join(raws):  # one scan of the chunk, not a Python step per row
        return chunk
    nul = [j for j, raw in enumerate(raws) if "\x00" in raw]
    width, names = columns.width, columns.names
    rejected = list(chunk.rejected)
    for j in nul:
        row = chunk.fields[j * width : (j + 1) * width]
        i = next((i for i, cell in enumerate(row) if "\x00" in cell), 0)
        name = names[i] if i < len(names) else f"column {i + 1}"
        rejected.append([chunk.lines[j], name, row[i].replace("\x00", "\\x00"), NUL_REASON])
    drop = set(nul)
    keep = [j for j in range(len(raws)) if j not in drop]
    fields = [f for j in keep for f in chunk.fields[j * width : (j + 1) * width]]
    return Chunk([chunk.lines[j] for j in keep], [raws[j] for j in keep], fields, rejected)


def categories(cells: list[str]) -> list[str]:
    """read_category for a column, decided once per distinct value (a column
    holds few) and then looked up. Every cell of a value becomes the first
    str object of that value: onnxruntime reads a column of a few objects
    faster than one of as many copies as rows (fewer cache misses)."""
    first: dict[str, str] = {}
    cells = list(map(first.setdefault, cells, cells))
    read = {value: read_category(value) for value in first}
    if all(read[value] is value for value in first):
        return cells
    return list(map(read.__getitem__, cells))


def numbers(cells: list[str]) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """float32 values (nan for missing) and the (index, cell) pairs that are not numbers.

    numpy parses a clean column in C (float()'s own parser), and a column
    whose missing cells are empty (the usual case) on a second try; what
    numpy cannot read, or reads as nan, infinity or beyond FLOAT32_MAX, is
    judged by cell_number, so that every cell gets cell_number's answer
    whichever other cells share its chunk (a chunk's size never changes a
    row's fate)."""
    wide = _parsed(cells)
    if wide is None:
        wide = _parsed([c or "nan" for c in cells])
    if wide is not None:
        with np.errstate(over="ignore"):
            values = wide.astype(np.float32)
        problems = []
        for i in np.flatnonzero(~(np.abs(wide) <= FLOAT32_MAX)).tolist():
            number = cell_number(cells[i])
            if number is None:
                problems.append((i, cells[i]))
            values[i] = np.nan if number is None else number
        return values, problems
    mapping = {cell: cell_number(cell) for cell in set(cells)}
    values = np.array([np.nan if mapping[c] is None else mapping[c] for c in cells], np.float32)
    return values, [(i, c) for i, c in enumerate(cells) if mapping[c] is None]


def _parsed(cells: list[str]) -> np.ndarray | None:
    """float64 values, or None when a cell is not a number to float()."""
    try:
        return np.array(cells, dtype=np.float64)
    except (ValueError, OverflowError):
        return None


def scored_rows(
    raws: list[str], probability: np.ndarray, label: np.ndarray, labels, tails=None
) -> bytes:
    """Each row's text as it came, then its probability (7 significant
    digits) and label, and its tail (more cells, then the line end) when
    `tails` is given, as UTF-8 lines: every row's pieces are interleaved in
    one tuple and formatted by one %-format, with no per-row Python code.
    '%.7g' formats a float as f"{p:.7g}" does (both are Python's float
    formatting; the bytes test and a test on edge values check it)."""
    end = "\n" if tails is None else ""
    names = [f",{_csv_cell(name)}{end}" for name in labels]
    width = 3 if tails is None else 4
    pieces: list = [None] * (width * len(raws))
    pieces[0::width] = raws
    pieces[1::width] = probability.tolist()
    pieces[2::width] = map(names.__getitem__, label.tolist())
    if tails is not None:
        pieces[3::width] = tails
    row = "%s,%.7g%s" if tails is None else "%s,%.7g%s%s"
    return ((row * len(raws)) % tuple(pieces)).encode("utf-8")


def _csv_cell(value: str) -> str:
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value
