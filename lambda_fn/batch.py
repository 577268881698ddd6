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
import gzip
import io
import itertools
import json
import time
import zlib
from datetime import UTC, datetime
from urllib.parse import unquote_plus

import numpy as np

from lambda_fn.config import Config
from lambda_fn.model import Model
from lambda_fn.schema import MISSING_CATEGORY, MISSING_TOKENS, NUMERIC
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
    text = _decoded_lines(io.BufferedReader(raw, 1 << 20))
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
    rows = _Records(text)
    try:
        try:
            header_raw, header = rows.header()
        except (UnicodeDecodeError, csv.Error, OSError, EOFError) as exc:
            raise _Rejected([[1, "", "", f"unreadable file: {exc}"]]) from exc
        problems = _header_problems(header, model)
        if problems:
            raise _Rejected(problems)
        scored.write((header_raw + ",probability,label\n").encode("utf-8"))
        index = {name: header.index(name) for name in model.schema.names}
        chunk: list[tuple[int, str, list[str]]] = []
        try:
            while chunk := rows.take(config.chunk_rows):
                _score_chunk(chunk, len(header), index, model, scored, error_lines, counts, timings)
        except (UnicodeDecodeError, csv.Error, OSError, EOFError) as exc:
            chunk = []
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


class _Undecodable(str):
    """Stands for a line that is not UTF-8; the row is rejected, not the file."""


def _decoded_lines(binary):
    """Text lines, decoded one by one so that one bad line costs one row."""
    first = True
    for line in binary:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            yield _Undecodable("")
            continue
        if first:
            text = text.removeprefix("\ufeff")
            first = False
        yield text


class _Records:
    """(line number, raw text, fields) per CSV record.

    Lines without a quote are split on commas directly and written back as
    they came, which is several times faster than the csv module both ways;
    a line with a quote goes through csv, pulling continuation lines when a
    quoted field spans lines. `line_num` is the last physical line read.
    """

    def __init__(self, text):
        self.lines = iter(text)
        self.line_num = 0
        self._pending: BaseException | None = None

    def take(self, n: int) -> list[tuple[int, str, list[str]]]:
        """Up to n records. A read error is raised on the call after the one
        that returns the rows read before it, so no row goes uncounted."""
        if self._pending is not None:
            error, self._pending = self._pending, None
            raise error
        lines: list[str] = []
        try:
            lines.extend(itertools.islice(self.lines, n))
        except (UnicodeDecodeError, csv.Error, OSError, EOFError) as exc:
            self._pending = exc
        if any('"' in line or isinstance(line, _Undecodable) for line in lines):
            self.lines = itertools.chain(lines, self.lines)
            records = []
            try:
                for _ in range(len(lines)):
                    records.append(next(self))
            except StopIteration:
                pass
            return records
        start = self.line_num
        self.line_num += len(lines)
        raws = [line.rstrip("\r\n") for line in lines]
        return [(start + k + 1, raw, raw.split(",") if raw else []) for k, raw in enumerate(raws)]

    def _next_line(self) -> str:
        line = next(self.lines)
        self.line_num += 1
        return line

    def _quoted(self, first: str) -> tuple[str, list[str]]:
        consumed = [first]

        def feed():
            yield first
            while True:
                line = self._next_line()
                consumed.append(line)
                yield line

        fields = next(csv.reader(feed()))
        return "".join(consumed).rstrip("\r\n"), fields

    def header(self) -> tuple[str, list[str] | None]:
        try:
            line = self._next_line()
        except StopIteration:
            return "", None
        if isinstance(line, _Undecodable):
            raise UnicodeDecodeError("utf-8", b"", 0, 1, "the header is not UTF-8 text")
        raw, fields = self._quoted(line) if '"' in line else (line.rstrip("\r\n"), None)
        if fields is None:
            fields = raw.split(",") if raw else []
        return raw, fields

    def __iter__(self):
        return self

    def __next__(self) -> tuple[int, str, list[str] | None]:
        line = self._next_line()
        start = self.line_num
        if isinstance(line, _Undecodable):
            return start, "", None
        if '"' in line:
            raw, fields = self._quoted(line)
        else:
            raw = line.rstrip("\r\n")
            fields = raw.split(",") if raw else []
        return start, raw, fields


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
    if not chunk:
        return
    t = time.perf_counter()
    bad: list[list] = []
    good = [r for r in chunk if r[2] is not None and len(r[2]) == width]
    if len(good) < len(chunk):
        for line, _, fields in chunk:
            if fields is None:
                bad.append([line, "", "", "not valid UTF-8 text"])
            elif len(fields) != width:
                what = "blank line" if not fields else f"expected {width} fields, got {len(fields)}"
                bad.append([line, "", "", what])
    columns = {}
    keep = np.ones(len(good), dtype=bool)
    transposed = list(zip(*[r[2] for r in good], strict=True)) if good else []
    for f in model.schema.features:
        i = index[f.name]
        cells = transposed[i] if good else []
        if f.kind == NUMERIC:
            values, problems = _numbers(cells)
            for j, value in problems:
                bad.append([good[j][0], f.name, value, "not a number"])
                keep[j] = False
            columns[f.name] = values.reshape(-1, 1)
        else:
            columns[f.name] = np.array(_categories(cells), dtype=object).reshape(-1, 1)
    counts["rows_in"] += len(chunk)
    if not keep.all():
        columns = {name: values[keep] for name, values in columns.items()}
        good = [r for r, k in zip(good, keep, strict=True) if k]
    timings["parse_seconds"] += time.perf_counter() - t
    if good:
        t = time.perf_counter()
        probability, label = model.predict(columns)
        timings["score_seconds"] += time.perf_counter() - t
        t = time.perf_counter()
        names = [f",{_csv_cell(name)}\n" for name in model.labels]
        text = "".join(
            [
                f"{r[1]},{p:.7g}{names[k]}"
                for r, p, k in zip(good, probability.tolist(), label.tolist(), strict=True)
            ]
        )
        scored.write(text.encode("utf-8"))
        timings["write_seconds"] += time.perf_counter() - t
    counts["rows_scored"] += len(good)
    counts["rows_rejected"] += len(chunk) - len(good)
    if bad:
        bad.sort(key=lambda r: r[0])
        error_lines.rows(bad)


def _csv_cell(value: str) -> str:
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _categories(cells: list[str]) -> list[str]:
    """Training's reading of a categorical cell: stripped, missing tokens -> "".

    Decided once per distinct value (a column holds few), then looked up."""
    mapping = {}
    for value in set(cells):
        stripped = value.strip()
        mapping[value] = MISSING_CATEGORY if stripped in MISSING_TOKENS else stripped
    if all(key == value for key, value in mapping.items()):
        return cells
    return [mapping[c] for c in cells]


def _numbers(cells: list[str]) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """float32 values (nan for missing) and the (index, cell) pairs that are not numbers."""
    try:
        values = np.array(cells, dtype=np.float64)
        if np.isfinite(values).all():
            return values.astype(np.float32), []
    except ValueError:
        pass
    values = np.empty(len(cells), dtype=np.float32)
    problems = []
    for i, cell in enumerate(cells):
        number = cell_number(cell)
        if number is None:
            problems.append((i, cell))
            values[i] = np.nan
        else:
            values[i] = number
    return values, problems
