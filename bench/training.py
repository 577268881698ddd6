"""Section 5: training time, read from the run folders `make results` writes."""

from __future__ import annotations

import json
from pathlib import Path

RUNS = ("marketing", "marketing-full", "telecom", "telecom-full")


def training_times(runs_dir: Path | None) -> dict:
    out = {}
    if runs_dir is None:
        return out
    for name in RUNS:
        path = runs_dir / name / "run.json"
        if path.exists():
            info = json.loads(path.read_text())
            out[name] = {
                "seconds": info.get("elapsed_seconds"),
                "candidates": len(info["learners_searched"]) * len(info["strategies_searched"]),
                "budget": info.get("budget_seconds"),
                "rows": info["data"]["rows"],
                "created": info["created"],
            }
    return out


def markdown(training: dict) -> list[str]:
    lines = ["## 5. Training time", ""]
    if not training:
        return [*lines, "No run folders given (`--runs`); `make results` writes them.", ""]
    lines += [
        "| run | rows | learners × strategies | budget s | seconds |",
        "|---|---|---|---|---|",
    ]
    for name, t in training.items():
        secs = f"{t['seconds']:.0f}" if t["seconds"] is not None else "not recorded"
        budget = f"{t['budget']:.0f}" if t.get("budget") else ""
        lines.append(f"| {name} | {t['rows']:,} | {t['candidates']} | {budget} | {secs} |")
    return [
        *lines,
        "",
        "From the run folders of `make results` (`elapsed_seconds` in run.json).",
        "",
    ]
