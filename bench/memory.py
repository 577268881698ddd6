"""The memory bar: the handler's S3 path keeps its peak flat as the file
grows longer or wider."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.inputs import make_big_csv, make_wide_csv, rows_for_mb
from bench.targets import MEMORY_FLAT, verdict
from bench.worker import measure


def memory_bounds(run: Path, data: Path, target: str, big_mb: int, wide_rows: int) -> dict:
    """Peak RSS of the handler's S3 path on a 1 MB file, a big_mb file and a
    5,000-column file, each in a fresh process on one thread, side by side."""
    files = {
        "1 MB": lambda p: make_big_csv(data, target, rows_for_mb(data, 1), p),
        f"{big_mb} MB": lambda p: make_big_csv(data, target, rows_for_mb(data, big_mb), p),
        "5,000 columns": lambda p: make_wide_csv(data, target, 5000, wide_rows, p),
    }
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, make in files.items():
            csv_path = tmp / "input.csv"
            rows = make(csv_path)
            sink = tmp / f"sink-{len(out)}"
            sink.mkdir()
            result = measure("handler", run, csv_path, sink)
            out[name] = {
                "rows": rows,
                "file_mb": csv_path.stat().st_size / 1e6,
                "rows_scored": result["rows"],
                "seconds": result["seconds"],
                "peak_rss_mb": result["peak_rss_mb"],
            }
            csv_path.unlink()
    base = out["1 MB"]["peak_rss_mb"]
    for entry in out.values():
        entry["rss_ratio_to_1mb"] = entry["peak_rss_mb"] / base
    return out


def markdown(memory: dict) -> list[str]:
    lines = [
        "### Memory does not follow the file's size or width",
        "",
        "The handler's S3 path on a 1 MB file, a large file and a 5,000-column file, each in",
        "a fresh process on one thread (peak resident set, VmHWM). The bar: the",
        f"large and the wide file within {MEMORY_FLAT.bound:g}x the 1 MB file's peak.",
        "",
        "| file | rows | file MB | rows scored | seconds | peak MB | x the 1 MB file | |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, m in memory.items():
        lines.append(
            f"| {name} | {m['rows']:,} | {m['file_mb']:.1f} | {m['rows_scored']:,} "
            f"| {m['seconds']:.1f} | {m['peak_rss_mb']:.0f} | {m['rss_ratio_to_1mb']:.2f} "
            f"| {verdict(MEMORY_FLAT.met(m['rss_ratio_to_1mb']))} |"
        )
    return [*lines, ""]
