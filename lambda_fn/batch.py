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
import json
import time
import zlib
from datetime import UTC, datetime
from urllib.parse import unquote_plus

import numpy as np

from lambda_fn.config import Config
from lambda_fn.model import Model
from lambda_fn.schema import MISSING_CATEGORY, NUMERIC
from lambda_fn.validation import MISSING_TOKENS, cell_number

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
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
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
    try:
        try:
            header = next(reader)
        except StopIteration:
            header = None
        except (UnicodeDecodeError, csv.Error, OSError, EOFError) as exc:
            raise _Rejected([[1, "", "", f"unreadable file: {exc}"]]) from exc
        problems = _header_problems(header, model)
        if problems:
            raise _Rejected(problems)
        scored_lines = _Lines(scored)
        scored_lines.rows([header + ["probability", "label"]])
        index = {name: header.index(name) for name in model.schema.names}
        chunk: list[tuple[int, list[str]]] = []
        try:
            for row in reader:
                chunk.append((reader.line_num, row))
                if len(chunk) >= config.chunk_rows:
                    _score_chunk(
                        chunk, header, index, model, scored_lines, error_lines, counts, timings
                    )
                    chunk = []
        except (UnicodeDecodeError, csv.Error, OSError, EOFError) as exc:
            _score_chunk(chunk, header, index, model, scored_lines, error_lines, counts, timings)
            chunk = []
            error_lines.rows([[reader.line_num + 1, "", "", f"file unreadable from here: {exc}"]])
            summary["truncated"] = f"stopped at line {reader.line_num + 1}: {exc}"
        _score_chunk(chunk, header, index, model, scored_lines, error_lines, counts, timings)
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


def _score_chunk(chunk, header, index, model, scored_lines, error_lines, counts, timings):
    if not chunk:
        return
    t = time.perf_counter()
    width = len(header)
    features = model.schema.features
    good_rows: list[list[str]] = []
    bad: list[list] = []
    rejected_lines = set()
    for line, row in chunk:
        if len(row) != width:
            what = "blank line" if not row else f"expected {width} fields, got {len(row)}"
            bad.append([line, "", "", what])
            rejected_lines.add(line)
            continue
        good_rows.append(row)
    columns = {}
    keep = np.ones(len(good_rows), dtype=bool)
    good_lines = [line for line, row in chunk if len(row) == width]
    for f in features:
        cells = [row[index[f.name]] for row in good_rows]
        if f.kind == NUMERIC:
            values, problems = _numbers(cells)
            for i, value in problems:
                bad.append([good_lines[i], f.name, value, "not a number"])
                keep[i] = False
            columns[f.name] = values.reshape(-1, 1)
        else:
            stripped = [c.strip() for c in cells]
            columns[f.name] = np.array(
                [MISSING_CATEGORY if c in MISSING_TOKENS else c for c in stripped], dtype=object
            ).reshape(-1, 1)
    counts["rows_in"] += len(chunk)
    if not keep.all():
        columns = {name: values[keep] for name, values in columns.items()}
        good_rows = [row for row, k in zip(good_rows, keep, strict=True) if k]
    timings["parse_seconds"] += time.perf_counter() - t
    if good_rows:
        t = time.perf_counter()
        probability, label = model.predict(columns)
        timings["score_seconds"] += time.perf_counter() - t
        t = time.perf_counter()
        names = model.labels
        scored_lines.rows(
            row + [f"{p:.7g}", names[k]]
            for row, p, k in zip(good_rows, probability.tolist(), label.tolist(), strict=True)
        )
        timings["write_seconds"] += time.perf_counter() - t
    counts["rows_scored"] += len(good_rows)
    counts["rows_rejected"] += len(chunk) - len(good_rows)
    if bad:
        bad.sort(key=lambda r: r[0])
        error_lines.rows(bad)


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
