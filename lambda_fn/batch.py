"""Score CSV files dropped into S3, in bounded memory whatever their size.

incoming/<name>.csv[.gz] -> scored/<name> (every input column, then
probability and label), errors/<name> (line, column, value, reason) when rows
are rejected, and summaries/<name>.json with the counts
(rows_in = rows_scored + rows_rejected) and timings.

The object is streamed: rows are parsed and scored in chunks, and outputs go
up as multipart uploads. A second delivery of the same event (same object
ETag, same model) finds the summary and leaves the outputs as they are.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import itertools
import json
import time
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NamedTuple
from urllib.parse import unquote_plus

import numpy as np

from lambda_fn import csv_sniff
from lambda_fn.config import Config
from lambda_fn.model import Model
from lambda_fn.schema import NUMERIC, read_category
from lambda_fn.validation import cell_number

SUFFIXES = (".csv", ".csv.gz")
csv.field_size_limit(10 * 1024 * 1024)


class BatchFailed(Exception):
    """Some files could not be processed; raised after all were tried, so
    Lambda's retry and the dead-letter queue see the event."""


class S3Writer:
    """Bytes to one S3 object: a single PUT when small, multipart when large.
    Gzip-compresses on the fly when the key ends in .gz."""

    def __init__(self, s3, bucket: str, key: str, part_bytes: int, content_type: str):
        self.s3, self.bucket, self.key = s3, bucket, key
        self.part_bytes = part_bytes
        self.content_type = content_type
        self.buffer = bytearray()
        self.parts: list[dict] = []
        self.upload_id: str | None = None
        self.gzip = zlib.compressobj(6, zlib.DEFLATED, 31) if key.endswith(".gz") else None

    def write(self, data: bytes) -> None:
        self.buffer += self.gzip.compress(data) if self.gzip else data
        if len(self.buffer) >= self.part_bytes:
            self._upload_part(bytes(self.buffer))
            self.buffer.clear()

    def _upload_part(self, data: bytes) -> None:
        if self.upload_id is None:
            self.upload_id = self.s3.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=self.content_type
            )["UploadId"]
        number = len(self.parts) + 1
        etag = self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=data
        )["ETag"]
        self.parts.append({"ETag": etag, "PartNumber": number})

    def close(self) -> None:
        if self.gzip:
            self.buffer += self.gzip.flush()
        if self.upload_id is None:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=self.key,
                Body=bytes(self.buffer),
                ContentType=self.content_type,
            )
            return
        if self.buffer:
            self._upload_part(bytes(self.buffer))
        self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},
        )

    def abort(self) -> None:
        if self.upload_id is not None:
            self.s3.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id
            )


class _Lines:
    """CSV text -> encoded bytes for an S3Writer, one chunk at a time."""

    def __init__(self, writer: S3Writer):
        self.writer = writer
        self.text = io.StringIO()
        self.csv = csv.writer(self.text, lineterminator="\n")

    def rows(self, rows) -> None:
        self.csv.writerows(rows)
        self.flush()

    def flush(self) -> None:
        data = self.text.getvalue()
        if data:
            self.writer.write(data.encode("utf-8"))
            self.text.seek(0)
            self.text.truncate()


def output_keys(key: str, config: Config) -> dict[str, str]:
    name = key[len(config.input_prefix) :]
    return {
        "scored": config.scored_prefix + name,
        "errors": config.errors_prefix + name,
        "summary": config.summary_prefix + name + ".json",
    }


def handle_event(event: dict, model: Model, config: Config, s3, log=None) -> dict:
    """Every record of an S3 event; one file's failure does not stop the others."""
    results, failed = [], []
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])
        if not key.startswith(config.input_prefix) or not key.lower().endswith(SUFFIXES):
            results.append(
                {
                    "key": key,
                    "status": "skipped",
                    "reason": f"not a .csv/.csv.gz under {config.input_prefix}",
                }
            )
            continue
        try:
            results.append(score_object(s3, bucket, key, model, config))
        except Exception as exc:  # noqa: BLE001 - reported, then re-raised below
            if log is not None:
                log.exception("file failed", extra={"bucket": bucket, "key": key})
            failed.append(key)
            results.append(
                {"key": key, "status": "failed", "error": f"{type(exc).__name__}: {exc}"}
            )
    if failed:
        raise BatchFailed(f"{len(failed)} file(s) failed: {', '.join(failed)}")
    return {"files": results}


def _existing_summary(s3, bucket: str, key: str):
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    except Exception as exc:  # botocore's ClientError, without importing botocore here
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        if code in ("404", "NoSuchKey"):
            return None
        raise
    try:
        return json.loads(body)
    except ValueError:
        return None


def score_object(s3, bucket: str, key: str, model: Model, config: Config) -> dict:
    started = time.perf_counter()
    keys = output_keys(key, config)
    head = s3.head_object(Bucket=bucket, Key=key)
    etag = head["ETag"].strip('"')
    previous = _existing_summary(s3, bucket, keys["summary"])
    if (
        previous
        and previous.get("source", {}).get("etag") == etag
        and previous.get("model_version") == model.version
        and previous.get("status") in ("scored", "rejected")
    ):
        return {**previous, "duplicate_delivery": True}

    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    raw = gzip.GzipFile(fileobj=body) if key.lower().endswith(".gz") else body
    summary = {
        "key": key,
        "source": {"bucket": bucket, "key": key, "etag": etag, "bytes": head["ContentLength"]},
        "model_version": model.version,
        "threshold": model.threshold,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    scored = S3Writer(s3, bucket, keys["scored"], config.part_bytes, "text/csv")
    errors = S3Writer(s3, bucket, keys["errors"], config.part_bytes, "text/csv")
    error_lines = _Lines(errors)
    error_lines.rows([["line", "column", "value", "reason"]])
    timings = {"parse_seconds": 0.0, "score_seconds": 0.0, "write_seconds": 0.0}
    counts = {"rows_in": 0, "rows_scored": 0, "rows_rejected": 0}
    binary = io.BufferedReader(raw, 1 << 20)
    rows = _Records(binary)
    try:
        try:
            not_csv = csv_sniff.header_problem(binary.peek(), model.schema.names)
            if not_csv:
                raise _Rejected([[1, "", "", not_csv]])
            header_raw, header = rows.header()
        except _READ_ERRORS as exc:
            raise _Rejected([[1, "", "", f"unreadable file: {exc}"]]) from exc
        problems = _header_problems(header, model)
        if problems:
            raise _Rejected(problems)
        scored.write((header_raw + ",probability,label\n").encode("utf-8"))
        index = {name: header.index(name) for name in model.schema.names}
        chunk: _Chunk | None = None
        try:
            while True:
                t = time.perf_counter()
                chunk = rows.take(config.chunk_rows, len(header))
                timings["parse_seconds"] += time.perf_counter() - t
                if chunk is None:
                    break
                _score_chunk(chunk, len(header), index, model, scored, error_lines, counts, timings)
        except _READ_ERRORS as exc:
            chunk = None
            error_lines.rows([[rows.line_num + 1, "", "", f"file unreadable from here: {exc}"]])
            summary["truncated"] = f"stopped at line {rows.line_num + 1}: {exc}"
        _score_chunk(chunk, len(header), index, model, scored, error_lines, counts, timings)
        t = time.perf_counter()
        scored.close()
        summary["status"] = "scored"
        summary["outputs"] = {"scored": keys["scored"]}
        if counts["rows_rejected"] or "truncated" in summary:
            error_lines.flush()
            errors.close()
            summary["outputs"]["errors"] = keys["errors"]
        else:
            s3.delete_object(Bucket=bucket, Key=keys["errors"])  # stale from an earlier upload
        timings["write_seconds"] += time.perf_counter() - t
    except _Rejected as rejected:
        scored.abort()
        error_lines.rows(rejected.rows)
        errors.close()
        summary["status"] = "rejected"
        summary["reason"] = rejected.rows[0][3]
        summary["outputs"] = {"errors": keys["errors"]}
    except BaseException:
        scored.abort()
        errors.abort()
        raise
    summary.update(counts)
    summary["timings"] = {k: round(v, 4) for k, v in timings.items()}
    summary["timings"]["total_seconds"] = round(time.perf_counter() - started, 4)
    s3.put_object(
        Bucket=bucket,
        Key=keys["summary"],
        ContentType="application/json",
        Body=json.dumps(summary, indent=2).encode(),
    )
    summary["outputs"]["summary"] = keys["summary"]
    return summary


_READ_ERRORS = (UnicodeDecodeError, csv.Error, OSError, EOFError, zlib.error)
# Memory bounds whatever the file holds: a line longer than MAX_LINE_BYTES is
# rejected, not read whole, and a chunk stops at CHUNK_BYTES of text even when
# CHUNK_ROWS rows would be more (very wide files).
MAX_LINE_BYTES = 1 << 19
CHUNK_BYTES = 16 << 20


class _Unreadable:
    """Stands for a physical line that cannot be text; the row is rejected, not the file."""

    def __init__(self, reason: str):
        self.reason = reason


class _Chunk(NamedTuple):
    """Up to CHUNK_ROWS records, split into fields.

    `fields` holds the fields of the well-formed rows one row after another
    (`width` per row), so that a column is the slice fields[i::width];
    `rejected` holds [line, "", "", reason] for the rows that could not be
    split into `width` fields."""

    lines: Sequence[int]
    raws: list[str]
    fields: list[str]
    rejected: list[list]


class _Records:
    """CSV records from a binary stream of lines, a chunk at a time.

    The usual chunk (UTF-8, no quote, no bare carriage return) is decoded and
    split as one string, which is several times faster than the csv module or
    a split per line; the rows' text is written back as it came. Otherwise
    the chunk is read line by line: a line that is not UTF-8 costs one row,
    and a quoted field may pull continuation lines. `line_num` is the last
    physical line read.
    """

    def __init__(self, binary):
        self.lines = iter(functools.partial(binary.readline, MAX_LINE_BYTES), b"")
        self.line_num = 0
        self._pending: BaseException | None = None

    def header(self) -> tuple[str, list[str] | None]:
        try:
            line = self._next_line()
        except StopIteration:
            return "", None
        if isinstance(line, _Unreadable):
            raise csv.Error(f"the header line is {line.reason}")
        line = line.removeprefix("\ufeff")
        if "\r" in line.rstrip("\r\n"):
            raise csv.Error(
                "the header line holds a carriage return that does not end a line: "
                "lines must end with LF or CRLF (old Mac files end them with CR alone)"
            )
        if '"' in line:
            try:
                return self._quoted(line)
            except _BadRecord as bad:
                raise csv.Error(f"the header: {bad}") from None
        raw = line.rstrip("\r\n")
        return raw, raw.split(",") if raw else []

    def take(self, n: int, width: int) -> _Chunk | None:
        """Up to n records, None at the end. A read error is raised on the call
        after the one that returns the rows read before it, so no row goes
        uncounted."""
        if self._pending is not None:
            error, self._pending = self._pending, None
            raise error
        batch: list[bytes] = []
        size = 0
        try:
            # Never more lines at once than could fit in what is left of CHUNK_BYTES.
            while len(batch) < n and size < CHUNK_BYTES:
                room = max(1, (CHUNK_BYTES - size) // MAX_LINE_BYTES)
                before = len(batch)
                batch.extend(itertools.islice(self.lines, min(room, n - before)))
                if len(batch) == before:
                    break
                size += sum(map(len, batch[before:]))
        except _READ_ERRORS as exc:
            self._pending = exc
        if not batch:
            if self._pending is not None:
                return self.take(n, width)
            return None
        if max(map(len, batch)) >= MAX_LINE_BYTES:
            return self._line_by_line(batch, width)
        try:
            text = b"".join(batch).decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is None or '"' in text or text.count("\r") != text.count("\r\n"):
            return self._line_by_line(batch, width)
        start = self.line_num
        self.line_num += len(batch)
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        raws = text.removesuffix("\n").split("\n")
        commas = list(map(str.count, raws, itertools.repeat(",")))
        if commas.count(width - 1) == len(raws) and (width > 1 or "" not in raws):
            lines: Sequence[int] = range(start + 1, start + 1 + len(raws))
            rejected = []
        else:
            lines, good, rejected = [], [], []
            for k, (raw, count) in enumerate(zip(raws, commas, strict=True)):
                if raw and count == width - 1:
                    lines.append(start + k + 1)
                    good.append(raw)
                else:
                    rejected.append([start + k + 1, "", "", _field_count_problem(raw, width)])
            raws = good
        fields = ",".join(raws).split(",") if raws else []
        return _Chunk(lines, raws, fields, rejected)

    def _line_by_line(self, batch: list[bytes], width: int) -> _Chunk:
        self.lines = itertools.chain(batch, self.lines)
        lines, raws, fields, rejected = [], [], [], []
        try:
            for _ in range(len(batch)):
                line = self._next_line()
                number = self.line_num
                if isinstance(line, _Unreadable):
                    rejected.append([number, "", "", line.reason])
                    continue
                if '"' in line:
                    try:
                        raw, row = self._quoted(line)
                    except _BadRecord as bad:
                        rejected.append([number, "", "", str(bad)])
                        continue
                else:
                    raw = line.rstrip("\r\n")
                    row = raw.split(",") if raw else []
                if len(row) == width:
                    lines.append(number)
                    raws.append(raw)
                    fields.extend(row)
                else:
                    rejected.append([number, "", "", _field_count_problem(raw, width, row)])
        except StopIteration:
            pass
        except _READ_ERRORS as exc:
            self._pending = exc
        return _Chunk(lines, raws, fields, rejected)

    def _next_line(self) -> str | _Unreadable:
        """The next physical line as text, or why it cannot be."""
        line = next(self.lines)
        self.line_num += 1
        if len(line) >= MAX_LINE_BYTES and not line.endswith(b"\n"):
            for rest in self.lines:  # skip the rest of it, a bounded piece at a time
                if len(rest) < MAX_LINE_BYTES or rest.endswith(b"\n"):
                    break
            return _Unreadable(f"longer than {MAX_LINE_BYTES:,} bytes")
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            return _Unreadable("not valid UTF-8 text")

    def _quoted(self, first: str) -> tuple[str, list[str]]:
        """A record with a quote: csv reads it, pulling continuation lines."""
        consumed = [first]

        def feed():
            yield first
            while True:
                try:
                    line = self._next_line()
                except StopIteration:
                    raise _BadRecord(
                        "a quoted field is not closed by the end of the file"
                    ) from None
                if isinstance(line, _Unreadable):
                    raise _BadRecord(f"a quoted field runs into a line that is {line.reason}")
                consumed.append(line)
                yield line

        try:
            fields = next(csv.reader(feed()))
        except csv.Error as exc:
            why = str(exc)
            if "new-line character" in why:  # the csv module's advice is about open()
                why = "a carriage return inside an unquoted field"
            raise _BadRecord(f"not readable as CSV: {why}") from None
        return "".join(consumed).rstrip("\r\n"), fields


class _BadRecord(ValueError):
    """One record cannot be read; it is rejected and the file goes on."""


def _field_count_problem(raw: str, width: int, fields: list[str] | None = None) -> str:
    if not raw:
        return "blank line"
    got = len(fields) if fields is not None else raw.count(",") + 1
    return f"expected {width} fields, got {got}"


class _Rejected(Exception):
    def __init__(self, rows):
        super().__init__(rows[0][3])
        self.rows = rows


def _header_problems(header, model: Model) -> list[list]:
    if not header:
        return [[1, "", "", "the file is empty: expected a header row"]]
    names = [h.strip() for h in header]
    header[:] = names
    dupes = sorted({n for n in names if names.count(n) > 1 and n in model.schema.names})
    problems = [[1, n, "", "column appears more than once in the header"] for n in dupes]
    missing = [n for n in model.schema.names if n not in names]
    problems += [[1, n, "", "required column missing from the header"] for n in missing]
    return problems


def _score_chunk(chunk, width, index, model, scored, error_lines, counts, timings):
    if chunk is None:
        return
    t = time.perf_counter()
    bad = list(chunk.rejected)
    lines, raws = chunk.lines, chunk.raws
    keep = None
    columns = {}
    for f in model.schema.features:
        cells = chunk.fields[index[f.name] :: width]
        if f.kind == NUMERIC:
            values, problems = _numbers(cells)
            if problems:
                keep = np.ones(len(raws), dtype=bool) if keep is None else keep
                for j, value in problems:
                    bad.append([lines[j], f.name, value, "not a number"])
                    keep[j] = False
        else:
            values = np.array(_categories(cells), dtype=object)
        columns[f.name] = values.reshape(-1, 1)
    counts["rows_in"] += len(raws) + len(chunk.rejected)
    if keep is not None:
        columns = {name: values[keep] for name, values in columns.items()}
        raws = [raw for raw, k in zip(raws, keep.tolist(), strict=True) if k]
    timings["parse_seconds"] += time.perf_counter() - t
    if raws:
        t = time.perf_counter()
        probability, label = model.predict(columns)
        timings["score_seconds"] += time.perf_counter() - t
        t = time.perf_counter()
        names = [f",{_csv_cell(name)}\n" for name in model.labels]
        text = "".join(
            [
                f"{raw},{p:.7g}{names[k]}"
                for raw, p, k in zip(raws, probability.tolist(), label.tolist(), strict=True)
            ]
        )
        scored.write(text.encode("utf-8"))
        timings["write_seconds"] += time.perf_counter() - t
    counts["rows_scored"] += len(raws)
    counts["rows_rejected"] += len(chunk.lines) + len(chunk.rejected) - len(raws)
    if bad:
        bad.sort(key=lambda r: r[0])
        error_lines.rows(bad)


def _csv_cell(value: str) -> str:
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _categories(cells: list[str]) -> list[str]:
    """read_category for a column, decided once per distinct value (a column
    holds few) and then looked up."""
    mapping = {value: read_category(value) for value in set(cells)}
    if all(key == value for key, value in mapping.items()):
        return cells
    return [mapping[c] for c in cells]


def _numbers(cells: list[str]) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """float32 values (nan for missing) and the (index, cell) pairs that are not numbers.

    numpy parses a clean column in C, and a column whose missing cells are
    empty (the usual case) on a second try; only what numpy cannot read, or
    reads as nan or infinity, is judged cell by cell."""
    values = _parsed(cells)
    if values is None:
        values = _parsed([c or "nan" for c in cells])
    if values is not None:
        problems = []
        for i in np.flatnonzero(~np.isfinite(values)).tolist():
            number = cell_number(cells[i])
            if number is None:
                problems.append((i, cells[i]))
            values[i] = np.nan if number is None else number
        return values, problems
    mapping = {cell: cell_number(cell) for cell in set(cells)}
    values = np.array([np.nan if mapping[c] is None else mapping[c] for c in cells], np.float32)
    return values, [(i, c) for i, c in enumerate(cells) if mapping[c] is None]


def _parsed(cells: list[str]) -> np.ndarray | None:
    try:
        with np.errstate(over="ignore"):
            return np.array(cells, dtype=np.float64).astype(np.float32)
    except (ValueError, OverflowError):
        return None
