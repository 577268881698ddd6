"""Plan task: a large file cut into byte ranges that each start on a record boundary.

Where a record starts depends on everything before it (a quoted field may
hold newlines), so the cuts come from one pass over the whole object, not
from guesses near each cut. The pass is cheap: a stretch of lines without a
quote is counted by bytes.count and bytes.find; a record whose line holds a
quote, and a line longer than the reader reads at once, is consumed by the
reader itself (csv_reader.Records), so a record ends for the plan exactly
where it ends for the reader that scores it, whatever the quotes, carriage
returns, invalid UTF-8 or over-long lines inside it. Each range also carries
the number of physical lines before it, so that its rejected rows are
numbered as in the whole file and the merge renumbers nothing.
"""

from __future__ import annotations

import io
import re
from typing import NamedTuple

import lambda_fn.batch.chunked.staging as stage
import lambda_fn.batch.summary as summaries
from lambda_fn.batch.csv_reader import MAX_LINE_BYTES, Records
from lambda_fn.batch.s3_io import READ_BUFFER_BYTES, put_json

BLOCK_BYTES = 8 << 20
# A final object has at most 10,000 parts, and the merge makes at most about
# two per range (merge.compose), so ranges grow before their count passes this.
MAX_RANGES = 4_000

# One physical line that is one whole record for the csv module (excel dialect,
# which the reader uses): every field either unquoted (a quote inside it is
# data) or quoted and closed on this line by a quote not followed by another,
# then anything up to the next comma. Bytes, not text: no byte of a multi-byte
# UTF-8 character is a quote, comma or newline. A line it does not match goes
# to the reader.
_FIELD = rb'(?:"[^"\n]*(?:""[^"\n]*)*"(?!")[^,\n]*|[^,"\n][^,\n]*)?'
_ONE_LINE_RECORD = re.compile(_FIELD + rb"(?:," + _FIELD + rb")*\n")


class Range(NamedTuple):
    """Bytes [start, end) of the object; `line` physical lines come before start."""

    index: int
    start: int
    end: int
    line: int


class Cut(NamedTuple):
    header_raw: str
    header: list[str] | None
    ranges: list[Range]
    lines: int  # physical lines in the whole object


class ScanFailed(RuntimeError):
    """The object could not be read to its end (not a READ_ERRORS type, so the
    reader lets it through instead of ending the records early)."""


class _Cursor:
    """A binary stream read a block at a time, also readable by line (for
    Records) from where the bulk scan stopped; `offset` is the object offset
    of the next unread byte."""

    def __init__(self, binary, block_bytes: int = BLOCK_BYTES):
        self.binary = binary
        self.block_bytes = block_bytes
        self.buf = b""
        self.pos = 0
        self.base = 0  # object offset of buf[0]
        self.eof = False

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def fill(self) -> bool:
        """More bytes after what is buffered; False at the end of the stream."""
        if self.eof:
            return False
        try:
            data = self.binary.read(self.block_bytes)
        except Exception as exc:  # noqa: BLE001 - re-raised past the reader, which would swallow it
            raise ScanFailed(f"reading the object failed at byte {self.offset:,}: {exc}") from exc
        if not data:
            self.eof = True
            return False
        self.base += self.pos
        self.buf = self.buf[self.pos :] + data
        self.pos = 0
        return True

    def readline(self, limit: int = -1) -> bytes:
        while True:
            end = self.buf.find(b"\n", self.pos)
            have = len(self.buf) - self.pos
            if end >= 0 and (limit < 0 or end - self.pos < limit):
                line = self.buf[self.pos : end + 1]
                break
            if 0 <= limit <= have:
                line = self.buf[self.pos : self.pos + limit]
                break
            if not self.fill():
                line = self.buf[self.pos :]
                break
        self.pos += len(line)
        return line


def cut(binary, range_bytes: int) -> Cut:
    """The header, and ranges of about range_bytes each (at least one, possibly
    empty) covering the data records of `binary` to its end.

    Raises csv.Error (from Records.header) for a header the reader cannot read;
    the caller checks that first with the same reader, so it does not happen."""
    cursor = _Cursor(binary)
    records = Records(cursor)
    header_raw, header = records.header()
    lines = records.line_num
    starts = [(cursor.offset, lines)]
    target = cursor.offset + range_bytes

    def record_start(offset: int, line: int) -> None:
        nonlocal target
        if offset >= target:
            starts.append((offset, line))
            target = offset + range_bytes

    while True:
        buf, pos = cursor.buf, cursor.pos
        quote = buf.find(b'"', pos)
        # Lines wholly before the quote (or the last newline) hold no quote:
        # each is one record.
        stop = buf.rfind(b"\n", pos, quote if quote >= 0 else len(buf)) + 1
        if stop > pos:
            while cursor.base + stop > target:
                nl = buf.find(b"\n", max(pos, target - cursor.base - 1), stop)
                start = nl + 1
                if start >= stop:  # the cut falls on `stop`, a record start seen below
                    break
                record_start(cursor.base + start, lines + buf.count(b"\n", pos, start))
            lines += buf.count(b"\n", pos, stop)
            cursor.pos = pos = stop
            record_start(cursor.offset, lines)
            continue
        # At a line start: either its line holds a quote, or no newline is buffered.
        newline = buf.find(b"\n", pos, pos + MAX_LINE_BYTES)
        short = newline < 0 and len(buf) - pos < MAX_LINE_BYTES
        if short and not cursor.eof and cursor.fill():
            continue
        if pos >= len(buf) and not cursor.fill():
            break
        if newline >= 0 and _ONE_LINE_RECORD.match(buf, pos, newline + 1):
            lines += 1
            cursor.pos = newline + 1
            record_start(cursor.offset, lines)
            continue
        # The reader consumes this one record, as it will when scoring (a fresh
        # one each time: a reader re-chains its lines after a quoted record).
        record = Records(cursor)
        record.take(1, 1)
        lines += record.line_num
        record_start(cursor.offset, lines)
    ranges = []
    ends = [s for s, _ in starts[1:]] + [cursor.offset]
    for index, ((start, line), end) in enumerate(zip(starts, ends, strict=True)):
        if start < end or index == 0:
            ranges.append(Range(len(ranges), start, end, line))
    return Cut(header_raw, header, ranges, lines)


def plan_task(
    s3,
    task: dict,
    staging: str,
    range_bytes: int,
    model_version: str,
    summary_etag: str | None = None,
) -> dict:
    """Reads the object once, writes plan.json (header, source, ranges, and
    the ETag of the run's pending summary, which the merge commits over) and
    manifest.json (the ranges, for the Distributed Map's ItemReader) under the
    run's staging prefix, and returns where the manifest is."""
    bucket = task["bucket"]
    started = summaries.now()
    source = summaries.source(bucket, task["key"], task["etag"], task.get("version"), None)
    body = stage.get_source(s3, source)
    source["bytes"] = body["ContentLength"]
    range_bytes = max(range_bytes, -(-body["ContentLength"] // MAX_RANGES))
    result = cut(io.BufferedReader(body["Body"], READ_BUFFER_BYTES), range_bytes)
    keys = stage.keys(staging, task["run"])
    plan = {
        "source": source,
        "model_version": model_version,
        "started_at": started,
        "header_raw": result.header_raw,
        "header": result.header,
        "lines": result.lines,
        "ranges": len(result.ranges),
        "summary_etag": summary_etag,
    }
    manifest = [r._asdict() for r in result.ranges]
    put_json(s3, bucket, keys["plan"], plan)
    put_json(s3, bucket, keys["manifest"], manifest)
    return {"bucket": bucket, "manifest": keys["manifest"], "ranges": len(result.ranges)}
