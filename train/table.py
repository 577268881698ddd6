"""Read a training CSV with pyarrow's reader into compact columns.

pandas' reader made a Python string of every cell, and reading and typing a
million rows took 8.7 s; pyarrow's multithreaded reader reads them in well
under one, and each column is then held once: float32 numbers, or int32 codes
into its distinct strings, whose stripping and kinds are decided once per
distinct string. The cells
mean exactly what they meant with `pd.read_csv(dtype=str,
skipinitialspace=True, na_values=MISSING_TOKENS)` then `.str.strip()`, the
reading train/data.py keeps as the fallback (parse_csv): a file pyarrow
cannot read the same way (ragged rows, bad UTF-8, unnamed or repeated
columns, a quote after leading spaces) is read by pandas, with its errors.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from contract import csv_sniff
from contract.cells import MISSING_TOKENS

CHUNK_BYTES = 16 << 20  # bytes hashed and scanned at a time
BLOCK_BYTES = 8 << 20  # pyarrow's read block


class Column:
    """One column's cells, stripped, with missing tokens as missing.

    From pyarrow, a column whose every present cell is a plain number
    carries them as float64 (`numbers`) and only makes its strings when asked."""

    def __init__(self, strings=None, series: pd.Series | None = None):
        self._arrow = strings
        self._codes: np.ndarray | None = None
        self._values: np.ndarray | None = None
        self.numbers: np.ndarray | None = None
        if series is not None:  # pandas' strings, already without missing tokens
            codes, uniques = pd.factorize(series.str.strip())
            self.rows = len(series)
            self._set(codes.astype(np.int32), np.asarray(uniques, dtype=object))
            return
        self.rows, self.missing = len(strings), strings.null_count
        self.numbers = _plain_numbers(strings)
        if self.numbers is None:
            self.strings()
        else:  # plain numbers have no spaces: the raw strings are the stripped ones
            import pyarrow.compute as pc

            self.distinct = pc.count_distinct(strings, mode="only_valid").as_py()

    def _set(self, codes: np.ndarray, values: np.ndarray) -> None:
        self._codes, self._values = codes, values
        self.missing = int((codes < 0).sum())
        self.distinct = len(values)
        self._arrow = None

    def strings(self) -> tuple[np.ndarray, np.ndarray]:
        """(int32 codes, -1 when missing; the distinct present strings, in order of
        first appearance)."""
        if self._codes is None:
            self._set(*_encode(self._arrow))
        return self._codes, self._values

    def take(self, per_value: np.ndarray, missing) -> np.ndarray:
        """Each row's entry of `per_value` (one per distinct string), `missing` when missing."""
        codes, _ = self.strings()
        return np.append(per_value, np.asarray([missing], dtype=per_value.dtype))[codes]

    def series(self) -> pd.Series:
        """The cells as an object Series, NaN when missing (what column_kinds reads)."""
        return pd.Series(self.take(self.strings()[1], np.nan), dtype=object)


def _plain_numbers(strings) -> np.ndarray | None:
    """float64 per row (NaN when missing) when every present cell is a finite
    number with nothing around it, parsed as pandas parses it; else None. A cell
    pyarrow reads but pandas might read otherwise (nan, inf, -0) gives None, and
    the column goes the way of its strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        numbers = pc.cast(strings, pa.float64()).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    nans = int(np.isnan(numbers).sum())
    if nans != strings.null_count or np.isinf(numbers).any():
        return None
    if (np.signbit(numbers) & (numbers == 0)).any():
        return None
    return numbers


def _encode(strings) -> tuple[np.ndarray, np.ndarray]:
    """pyarrow's dictionary codes, with each distinct raw cell read as pandas
    read it: leading spaces skipped, a missing token missing, then stripped."""
    import pyarrow.compute as pc

    chunks = pc.dictionary_encode(strings).chunks
    if len({len(c.dictionary) for c in chunks}) > 1:  # not one dictionary: make it one
        chunks = [pc.dictionary_encode(strings.combine_chunks())]
    if not chunks or len(chunks[-1].dictionary) == 0:
        return np.full(len(strings), -1, np.int32), np.empty(0, dtype=object)
    raw = chunks[-1].dictionary.to_pylist()  # the chunks share one dictionary
    codes = np.concatenate(
        [pc.fill_null(c.indices, -1).to_numpy().astype(np.int32, copy=False) for c in chunks]
    )
    cells = [None if (t := v.lstrip(" ")) in MISSING_TOKENS else t.strip() for v in raw]
    if all(c == v for c, v in zip(cells, raw, strict=True)):
        return codes, np.asarray(raw, dtype=object)
    # Several raw cells may read as one value, or as missing: number them again.
    again, values = pd.factorize(pd.Series(cells, dtype=object))
    again = np.append(again.astype(np.int32), np.int32(-1))
    return again[codes], np.asarray(values, dtype=object)


def _fields_with_a_space_before_a_quote(delimiter: str) -> re.Pattern:
    """pandas skips the spaces before a quoted field; pyarrow keeps the quotes."""
    return re.compile(b"(?:^|[" + re.escape(delimiter.encode()) + rb"\r\n]) +\"")


def _blocks(data, gzipped: bool):
    """The file's bytes, or its content when gzip, CHUNK_BYTES at a time."""
    if isinstance(data, bytes):
        yield gzip.decompress(data) if gzipped else data
        return
    with (gzip.open if gzipped else open)(data, "rb") as fh:
        yield from iter(lambda: fh.read(CHUNK_BYTES), b"")


def scan(data, gzipped: bool, delimiter: str) -> tuple[str, bool, bool]:
    """(sha256 of the file's bytes, whether its content holds a quote, whether
    pyarrow would read a quoted field differently from pandas), streamed."""
    digest = hashlib.sha256()
    for block in [data] if isinstance(data, bytes) else _blocks(data, False):
        digest.update(block)
    quoted = differs = False
    pattern = _fields_with_a_space_before_a_quote(delimiter)
    tail = b""  # the last byte that is not a space, and the spaces after it
    for block in _blocks(data, gzipped):
        if not differs and (quoted or b'"' in block):
            quoted = True
            differs = pattern.search(tail + block) is not None
        kept = len(block.rstrip(b" "))
        tail = block[kept - 1 :] if kept else tail + block
    return digest.hexdigest(), quoted, differs


def read_arrow(data, gzipped: bool, delimiter: str, newlines: bool):
    """{column name: pyarrow string column}, or None when pyarrow cannot read
    the file or would name its columns differently from pandas."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    def stream():
        raw = pa.BufferReader(data) if isinstance(data, bytes) else pa.OSFile(str(data))
        return pa.CompressedInputStream(raw, "gzip") if gzipped else raw

    parse = pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=newlines)
    read = pcsv.ReadOptions(block_size=BLOCK_BYTES)
    try:
        with stream() as head:
            names = pcsv.open_csv(head, read_options=read, parse_options=parse).schema.names
        lead = [n.lstrip(" ") for n in names]  # pandas' names: it renames repeats, unnamed
        if len(set(lead)) < len(lead) or any(not n.strip() for n in names):
            return None
        convert = pcsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            null_values=sorted(MISSING_TOKENS),
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        )
        with stream() as fh:
            table = pcsv.read_csv(
                fh, read_options=read, parse_options=parse, convert_options=convert
            )
    except (pa.ArrowException, OSError, EOFError):
        return None
    columns = {name.strip(): table.column(i) for i, name in enumerate(names)}
    return columns if len(columns) == len(names) else None


def head_bytes(data, gzipped: bool) -> bytes:
    """The first bytes of the content (decompressed when gzip); b"" when the
    gzip stream is broken (pandas then names the problem)."""
    try:
        if isinstance(data, bytes):
            data = io.BytesIO(data)
            with gzip.GzipFile(fileobj=data) if gzipped else data as fh:
                return fh.read(csv_sniff.HEAD_BYTES)
        with (gzip.open if gzipped else open)(data, "rb") as fh:
            return fh.read(csv_sniff.HEAD_BYTES)
    except (OSError, EOFError, zlib.error):
        return b""


def head_lines(head: bytes) -> list[str]:
    """The first 20 whole lines of the head."""
    lines = head.decode("utf-8", "replace").splitlines()
    if len(lines) > 1 and not head.endswith(b"\n"):
        lines.pop()  # cut short
    return lines[:20]


def read_bytes(source: str) -> bytes:
    """The whole file or S3 object, for pandas' reader."""
    from train.data import UsageError

    data = _data(source)
    if isinstance(data, bytes):
        return data
    try:
        return data.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from exc


def _read_s3(uri: str) -> bytes:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from train.data import UsageError

    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket or not key:
        raise UsageError(f"S3 URI must look like s3://bucket/key.csv, got {uri}")
    try:
        return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise UsageError(f"cannot read {uri}: {code}") from exc
    except BotoCoreError as exc:
        raise UsageError(f"cannot read {uri}: {exc}") from exc


def _data(source: str) -> Path | bytes:
    """A local file's path (checked, read later in blocks), or an S3 object's bytes."""
    from train.data import UsageError

    if source.startswith("s3://"):
        return _read_s3(source)
    path = Path(source)
    if not path.exists():
        raise UsageError(f"data file not found: {source}")
    if path.is_dir():
        raise UsageError(f"data path is a folder, expected a CSV file: {source}")
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from exc
    return path


def read_columns(source: str, delimiter: str | None, notes: list[str]):
    """({column name: Column}, the delimiter, the file's sha256): pyarrow's
    reader (train/table.py), or pandas' when pyarrow would read the file
    otherwise or not at all; pandas then names any problem."""
    from train.data import UsageError, parse_csv

    data = _data(source)
    if isinstance(data, bytes):
        gzipped = data[:2] == csv_sniff.GZIP_MAGIC
    else:
        with open(data, "rb") as fh:
            gzipped = fh.read(2) == csv_sniff.GZIP_MAGIC
    head = head_bytes(data, gzipped)
    if delimiter is None:
        delimiter = csv_sniff.delimiter(head_lines(head)) or ","
        if delimiter != ",":
            notes.append(
                f"{source} read as {csv_sniff.DELIMITERS[delimiter]}-separated (detected from "
                "its header; --delimiter sets the separator)"
            )
    columns = None
    if head.strip() and not csv_sniff.not_csv(head, gzip_ok=True):
        try:
            sha256, quoted, differs = scan(data, gzipped, delimiter)
        except (OSError, EOFError, zlib.error):
            differs = True
        if not differs:
            columns = read_arrow(data, gzipped, delimiter, newlines=quoted)
    if columns is None:
        raw = data if isinstance(data, bytes) else read_bytes(source)
        frame = parse_csv(raw, source, delimiter)
        sha256 = hashlib.sha256(raw).hexdigest()
        columns = {name: Column(series=frame[name]) for name in frame.columns}
    elif len(next(iter(columns.values()))) == 0:
        raise UsageError(f"{source} has a header but no data rows")
    else:
        columns = {name: Column(strings) for name, strings in columns.items()}
    return columns, delimiter, sha256
