"""docs/benchmarks.md and .json from one run's figures: the target table
(from bench.targets), then each section's own Markdown."""

from __future__ import annotations

import json
from pathlib import Path

from bench import batch, chunked, cold_start, latency, memory, size, training
from bench.machine import sentence
from bench.targets import check, measured, verdict


def targets_markdown(figures: dict) -> list[str]:
    lines = ["## Targets", "", "| target | measured | |", "|---|---|---|"]
    for t, value in measured(figures):
        lines.append(f"| {t.text()} | {t.show(value)} | {verdict(t.met(value))} |")
    return [*lines, ""]


def markdown(figures: dict, command: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Produced by `{command}`",
        f"(`make bench`) on {sentence(figures.get('machine'))};",
        "every comparison was measured side by side in that one run. Rerun the command to check.",
        "",
        *targets_markdown(figures),
        *latency.markdown(figures),
        *batch.markdown(figures),
        *(memory.markdown(figures["memory"]) if "memory" in figures else []),
        *cold_start.markdown(figures),
        *size.markdown(figures["size"]),
        *training.markdown(figures["training"]),
        *(chunked.markdown(figures["chunked"]) if "chunked" in figures else []),
    ]
    return "\n".join(lines)


def write_json(figures: dict, path: str | None) -> None:
    """The figures, with each measured target's check, where asked."""
    if path:
        saved = {**figures, "targets": check(figures)}
        Path(path).write_text(json.dumps(saved, indent=2) + "\n")


def write(figures: dict, command: str, json_path: str | None, markdown_path: str | None) -> str:
    """Write the figures and the report where asked, and return the report."""
    report = markdown(figures, command)
    write_json(figures, json_path)
    if markdown_path:
        Path(markdown_path).write_text(report)
    return report
