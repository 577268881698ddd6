"""Write docs/cost.md: the measured figures of docs/benchmarks.json (`make bench`)
times published prices (`make cost`)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cost import Measured  # noqa: E402
from bench.cost_page import render  # noqa: E402


def measured(bench: dict) -> Measured:
    """The figures the cost model needs, each from its section of benchmarks.json."""
    full = bench["batch"]["full"]["handler"]
    file_mb = bench["batch"]["full"]["file_mb"]
    return Measured(
        handler_ms=bench["single_record"]["winner"]["handler"]["p50_us"] / 1000,
        init_ms=bench["cold_start_rie"]["tracing_on"]["median_ms"],
        mb_per_s=file_mb / full["seconds"],
        rows_per_s=full["rows_per_s"],
        api_rss_mb=bench["memory"]["1 MB"]["peak_rss_mb"],
        batch_rss_mb=max(v["peak_rss_mb"] for v in bench["memory"].values()),
    )


def provenance(path: Path) -> str:
    """Which run: the commit that last wrote the figures, and its date."""
    done = subprocess.run(
        ["git", "log", "-1", "--format=%h %cs", "--", str(path)],  # noqa: S607
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    stamp = done.stdout.strip() or "uncommitted"
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return f"`{shown}` (`make bench`, commit {stamp})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=ROOT / "docs" / "benchmarks.json")
    parser.add_argument("--arm64", type=Path, default=ROOT / "docs" / "arm64-check.json")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "cost.md")
    args = parser.parse_args(argv)
    try:
        figures = measured(json.loads(args.bench.read_text()))
    except (OSError, ValueError, KeyError) as exc:
        print(
            f"error: {args.bench}: cannot read the figures ({exc!r}); run make bench",
            file=sys.stderr,
        )
        return 2
    arm64 = json.loads(args.arm64.read_text()) if args.arm64.is_file() else None
    args.out.write_text(
        render(
            figures,
            provenance(args.bench.resolve()),
            arm64 if arm64 and arm64.get("passed") else None,
        )
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
