"""CSV records from a stream of bytes, a bounded chunk at a time.

Memory is bounded whatever the file holds: a line longer than MAX_LINE_BYTES
is rejected, not read whole, a header of more than MAX_COLUMNS fields rejects
the file, and a chunk stops at CHUNK_BYTES of text or MAX_CHUNK_FIELDS fields
even when the requested number of rows would be more (very wide files). A
record that cannot be read costs that record, not the file.

Line ends: LF, CRLF, and CR alone (old Mac files, recognised from the first
bytes and read through with_line_ends) are all read; a carriage return inside
an unquoted field rejects its row, so it can never break the output CSV.

The reader knows nothing of S3 or of the model: it takes any binary stream
with readline, a whole object or a byte range that starts on a record
boundary (given the number of physical lines before it, so that rejected
lines are numbered as in the whole file).
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import zlib
from collections.abc import Iterator, Sequence
from typing import NamedTuple

csv.field_size_limit(10 * 1024 * 1024)

# What reading a damaged stream raises: in the header it rejects the file,
# later on it ends the reading early.
READ_ERRORS = (UnicodeDecodeError, csv.Error, OSError, EOFError, zlib.error)
MAX_LINE_BYTES = 1 << 19
CHUNK_BYTES = 16 << 20
MAX_COLUMNS = 10_000
# Fields split per chunk (10,000 rows of 20 columns): a 5,000-column file is
# read 40 rows at a time, so memory does not grow with the width.
MAX_CHUNK_FIELDS = 200_000
CR_IN_FIELD = "a carriage return inside an unquoted field"


def with_line_ends(binary: io.BufferedReader) -> io.BufferedReader:
    """`binary` as lines the reader splits: a stream whose first bytes hold
    carriage returns and no line feed (CR-only line ends) is read with each
    CR turned into LF; any other stream is returned as it is."""
    head = binary.peek(1 << 16)
    if b"\r" in head and b"\n" not in head:
        return io.BufferedReader(_CrAsLf(binary))
    return binary


class _CrAsLf(io.RawIOBase):
    def __init__(self, inner):
        self.inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.inner.read1(len(buffer)).replace(b"\r", b"\n")
        buffer[: len(data)] = data
        return len(data)


class Chunk(NamedTuple):
    """Up to a chunk's worth of records, split into fields.

    `fields` holds the fields of the well-formed rows one row after another
    (`width` per row), so that a column is the slice fields[i::width];
    `lines` and `raws` are those rows' physical line numbers and text as it
    came; `rejected` holds [line, "", "", reason] for the rows that could not
    be split into `width` fields."""

    lines: Sequence[int]
    raws: list[str]
    fields: list[str]
    rejected: list[list]


class Records:
    """CSV records from a binary stream of lines, a chunk at a time.

    The usual chunk (UTF-8, no quote, no bare carriage return) is decoded and
    split as one string, which is several times faster than the csv module or
    a split per line; the rows' text is written back as it came. Otherwise
    the chunk is read line by line: a line that is not UTF-8 costs one row,
    and a quoted field may pull continuation lines. `line_num` is the last
    physical line read; pass the number of lines before the stream's first
    byte when it does not start the file.
    """

    def __init__(self, binary, line_num: int = 0):
        self.lines = iter(functools.partial(binary.readline, MAX_LINE_BYTES), b"")
        self.line_num = line_num
        self._pending: BaseException | None = None

    def header(self) -> tuple[str, list[str] | None]:
        """The first line's text and its fields; ("", None) for an empty stream.

        Raises csv.Error naming what is wrong with a header that cannot be read."""
        try:
            line = self._next_line()
        except StopIteration:
            return "", None
        if isinstance(line, _Unreadable):
            raise csv.Error(f"the header line is {line.reason}")
        line = line.removeprefix("\ufeff")
        if "\r" in line.rstrip("\r\n"):
            raise csv.Error(
                "the header line holds a carriage return that does not end it: "
                "a file's lines must all end the same way (LF, CRLF or CR)"
            )
        if '"' in line:
            try:
                raw, fields = self._quoted(line)
            except _BadRecord as bad:
                raise csv.Error(f"the header: {bad}") from None
            return raw, _check_width(fields)
        raw = line.rstrip("\r\n")
        return raw, _check_width(raw.split(",") if raw else [])

    def chunks(self, rows: int, width: int) -> Iterator[Chunk]:
        """take(rows, width) until the end of the stream."""
        while (chunk := self.take(rows, width)) is not None:
            yield chunk

    def take(self, n: int, width: int) -> Chunk | None:
        """Up to n records, None at the end. A read error is raised on the call
        after the one that returns the rows read before it, so no row goes
        uncounted."""
        if self._pending is not None:
            error, self._pending = self._pending, None
            raise error
        n = min(n, max(1, MAX_CHUNK_FIELDS // max(1, width)))
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
        except READ_ERRORS as exc:
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
        if text is None or '"' in text or ("\r" in text and text.count("\r") != text.count("\r\n")):
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
        return Chunk(lines, raws, fields, rejected)

    def _line_by_line(self, batch: list[bytes], width: int) -> Chunk:
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
                    if "\r" in raw:
                        rejected.append([number, "", "", f"not readable as CSV: {CR_IN_FIELD}"])
                        continue
                    row = raw.split(",") if raw else []
                if len(row) == width:
                    lines.append(number)
                    raws.append(raw)
                    fields.extend(row)
                else:
                    rejected.append([number, "", "", _field_count_problem(raw, width, row)])
        except StopIteration:
            pass
        except READ_ERRORS as exc:
            self._pending = exc
        return Chunk(lines, raws, fields, rejected)

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
                why = CR_IN_FIELD
            raise _BadRecord(f"not readable as CSV: {why}") from None
        return "".join(consumed).rstrip("\r\n"), fields


class _Unreadable:
    """Stands for a physical line that cannot be text; the row is rejected, not the file."""

    def __init__(self, reason: str):
        self.reason = reason


class _BadRecord(ValueError):
    """One record cannot be read; it is rejected and the file goes on."""


def _check_width(fields: list[str]) -> list[str]:
    if len(fields) > MAX_COLUMNS:
        raise csv.Error(
            f"the header has {len(fields):,} columns; the limit is {MAX_COLUMNS:,}: "
            "drop the columns the model does not use"
        )
    return fields


def _field_count_problem(raw: str, width: int, fields: list[str] | None = None) -> str:
    if not raw:
        return "blank line"
    got = len(fields) if fields is not None else raw.count(",") + 1
    return f"expected {width} fields, got {got}"
