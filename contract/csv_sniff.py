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

# What a file is, from its first bytes. Each signature is long or specific
# enough that no CSV header starts with it (a header may well start "BM" or
# "PK,", so BMP images and bare two-letter magics are left to the share of
# control bytes below).
_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Excel .xls (or other Office) file"),
    (b"%PDF-", "a PDF document"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\xfd7zXZ\x00", "xz-compressed"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"ARROW1", "an Arrow/Feather file"),
)
GZIP_MAGIC = b"\x1f\x8b"
DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}

# Bytes no text file holds: C0 controls other than tab, LF, CR (and form
# feed, which some exports use as a page break), and DEL.
_CONTROL = bytes([*range(0x09), 0x0B, *range(0x0E, 0x20), 0x7F])
# A file is binary when more than 5% of its first bytes are such controls.
# Compressed or encrypted data is near-uniform: 30 of 256 byte values, about
# 12%, are controls; databases, images and executables hold runs of NULs and
# score higher still. A text CSV scores 0, and one with a stray NUL or two in
# a row scores a few per 64 KiB (0.003%), so a bad row never makes its file
# "binary": the row itself is rejected by name (lambda_fn/batch/scoring.py).
# The margin on both sides is over 2x and over 1,000x. In a file of a few
# dozen bytes one stray byte is already 5%, so it also takes MIN_CONTROLS:
# one or two stray bytes never make a file binary, however short it is.
BINARY_SHARE = 0.05
MIN_CONTROLS = 3


def _signature(head: bytes) -> str | None:
    what = next((w for magic, w in _SIGNATURES if head.startswith(magic)), None)
    if what:
        return what
    # Magics that are also plain text need what follows to be binary too:
    # Parquet's "PAR1" then a page header (0x15...), bzip2's "BZh" + level + block magic.
    if head.startswith(b"PAR1") and head[4:5] and head[4:5] in _CONTROL:
        return "a Parquet file"
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] == b"1AY&SY":
        return "bzip2-compressed"
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"AVI ", b"WAVE"):
        return "a RIFF media file (WebP, AVI or WAV)"
    return None


def _utf16(head: bytes) -> bool:
    """UTF-16 text, with a byte-order mark or without (ASCII then leaves every
    other byte NUL)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    sample = head[:512]
    if len(sample) < 8:
        return False
    even, odd = sample[0::2], sample[1::2]
    return (odd.count(0) >= 0.9 * len(odd) and even.count(0) == 0) or (
        even.count(0) >= 0.9 * len(even) and odd.count(0) == 0
    )


def _controls(sample: bytes) -> int:
    return len(sample) - len(sample.translate(None, _CONTROL))


def control_share(sample: bytes) -> float:
    """The share of `sample`'s bytes that no text file holds (see BINARY_SHARE)."""
    return _controls(sample) / len(sample) if sample else 0.0


def not_csv(head: bytes, gzip_ok: bool = False) -> str | None:
    """'not a CSV: ...' when the first bytes show another kind of file, else None.

    A known signature names the kind; otherwise a file is binary only when
    more than BINARY_SHARE of its first HEAD_BYTES are control bytes. A stray
    NUL in one row does not make a file binary."""
    head = head[:HEAD_BYTES]
    what = _signature(head)
    if what is None and head.startswith(GZIP_MAGIC) and not gzip_ok:
        what = "gzip-compressed (name it .csv.gz)"
    if what is None and _utf16(head):
        what = "UTF-16 text"
    if what is None and control_share(head) > BINARY_SHARE and _controls(head) >= MIN_CONTROLS:
        what = "binary (control bytes such as NUL make up more than 5% of its start)"
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
