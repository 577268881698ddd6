"""Fetch the demo dataset (bank marketing response) and check its sha256.

Uses $DATA_MIRROR (a folder that holds the file) when set, otherwise the
public URL. Standard library only, so it runs before any setup.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

NAME = "marketing_data.csv"
SHA256 = "35f5fb50b799c9436c1d3425092212274699a6b600de1356595acb727cd5b351"
URL = (
    "https://raw.githubusercontent.com/mdai61/subscribsion-to-a-product/main/"
    "OneDrive/Desktop/interview/hyntlo/code/dataset/marketing_data.csv"
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(dest_dir: Path) -> Path:
    dest = dest_dir / NAME
    if dest.exists() and sha256(dest) == SHA256:
        return dest
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{NAME}-", dir=dest_dir)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        mirror = os.environ.get("DATA_MIRROR")
        if mirror:
            source = Path(mirror) / NAME
            if not source.exists():
                raise SystemExit(f"error: DATA_MIRROR={mirror} has no {NAME}")
            shutil.copyfile(source, tmp)
            where = str(source)
        else:
            try:
                with urllib.request.urlopen(URL, timeout=60) as resp, open(tmp, "wb") as fh:
                    shutil.copyfileobj(resp, fh)
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                raise SystemExit(
                    f"error: cannot download {NAME} ({exc}). Without internet, point DATA_MIRROR "
                    f"at a folder that holds it, e.g. `make demo DATA_MIRROR=../shared/data`, "
                    f"or copy it to {dest}"
                ) from exc
            where = URL
        got = sha256(tmp)
        if got != SHA256:
            raise SystemExit(f"error: {where} has sha256 {got}, expected {SHA256}")
        os.replace(tmp, dest)
        return dest
    finally:
        tmp.unlink(missing_ok=True)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("data")
    print(f"data: {fetch(target)} (sha256 ok)")
