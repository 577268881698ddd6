"""Recognise the files users mistake for CSVs, from their first bytes.

An Excel workbook, a PDF or another binary file is named as such ("not a
CSV"), instead of failing later as "no data rows" or a decoding error; a
semicolon-, tab- or pipe-separated file is recognised by its header. Used by
the training CLI (train/data.py) and the S3 batch path. Standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence

# How much of the start of a file the checks look at.
HEAD_BYTES = 64 * 1024

_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Excel .xls (or other Office) file"),
    (b"PAR1", "a Parquet file"),
    (b"%PDF", "a PDF document"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"BZh", "bzip2-compressed"),
    (b"\xfd7zXZ\x00", "xz-compressed"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
)
GZIP_MAGIC = b"\x1f\x8b"
DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


def not_csv(head: bytes, gzip_ok: bool = False) -> str | None:
    """'not a CSV: ...' when the first bytes show another kind of file, else None."""
    what = next((w for magic, w in _SIGNATURES if head.startswith(magic)), None)
    if what is None and head.startswith(GZIP_MAGIC) and not gzip_ok:
        what = "gzip-compressed (name it .csv.gz)"
    if what is None and head.startswith((b"\xff\xfe", b"\xfe\xff")):
        what = "UTF-16 text"
    if what is None and b"\x00" in head[:HEAD_BYTES]:
        what = "binary (it holds NUL bytes)"
    if what is None:
        return None
    return f"not a CSV: the file is {what}; save or export it as CSV (UTF-8, comma-separated)"


def _fields(line: str, delimiter: str) -> list[str]:
    """A line split on `delimiter` outside double quotes, each field stripped of quotes and spaces."""
    fields, current, quoted = [], [], False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            fields.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    fields.append("".join(current).strip())
    return fields


def delimiter(lines: Sequence[str]) -> str | None:
    """The delimiter of a file that is not comma-separated (';', tab or '|'), from its
    first lines; None when commas separate the fields (or nothing else clearly does)."""
    lines = [line.rstrip("\r\n").removeprefix("\ufeff") for line in lines if line.strip()]
    if not lines:
        return None
    header = lines[0]
    commas = len(_fields(header, ","))
    best, width = None, commas
    for candidate in DELIMITERS:
        n = len(_fields(header, candidate))
        # The same number of fields on every line, and more than commas give.
        if n > width and all(len(_fields(line, candidate)) == n for line in lines[1:]):
            best, width = candidate, n
    return best


def header_problem(head: bytes, expected: Sequence[str]) -> str | None:
    """Why an object whose first bytes are `head` cannot be a comma-separated file
    with the columns `expected`, or None (the header check then names what is missing)."""
    head = head[:HEAD_BYTES]
    reason = not_csv(head)
    if reason:
        return reason
    lines = head.decode("utf-8", "replace").splitlines()
    if len(lines) > 1 and not head.endswith(b"\n"):
        lines.pop()  # cut short
    lines = lines[:20]
    found = delimiter(lines)
    if found is None:
        return None
    header = lines[0]
    with_commas = sum(name in _fields(header, ",") for name in expected)
    with_found = sum(name in _fields(header, found) for name in expected)
    if with_found <= with_commas:
        return None
    return (
        f"the file is {DELIMITERS[found]}-separated ({found!r} between the columns), not "
        "comma-separated: save it as a comma-separated CSV before dropping it here"
    )
