"""The messy CRM table of scripts/messy_table.py, for tests: dates in two
formats, money strings, many-valued codes, booleans, free text and ids."""

from __future__ import annotations

from pathlib import Path

from scripts.messy_table import messy_frame


def write_messy(path: Path, rows: int = 1500, seed: int = 0) -> Path:
    messy_frame(rows, seed).to_csv(path, index=False)
    return path
