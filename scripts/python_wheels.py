"""Check, without installing, that every pin in requirements/ has a wheel for
each Python that training and export support (pyproject's requires-python).

A pin without a wheel for one version would make `make setup` build it from
source there (or fail), so ask pip to resolve each file for that version and a
common Linux platform, with no dependencies and nothing installed:

    python scripts/python_wheels.py                      # 3.11, 3.12, 3.13; exit 1 on a miss
    python scripts/python_wheels.py --python 3.13 --requirements requirements/train.txt
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = sorted((ROOT / "requirements").glob("*.txt"))
PYTHONS = ("3.11", "3.12", "3.13")
# Training machines: x86_64 Linux with glibc 2.28 or later (Debian 10, Ubuntu
# 20.04, RHEL 8 and newer). TensorFlow's wheels, for one, are manylinux_2_27.
GLIBC_MINOR = 28
PLATFORMS = [f"manylinux_2_{minor}_x86_64" for minor in range(17, GLIBC_MINOR + 1)] + [
    "manylinux2014_x86_64"
]


def _pip(python: str, requirements: list[str]) -> subprocess.CompletedProcess:
    """pip's resolver for `python` and PLATFORMS, dry run: reads wheel metadata only."""
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet"]
        command += ["--disable-pip-version-check", "--ignore-installed", "--no-deps"]
        command += ["--target", folder, "--only-binary=:all:", "--implementation", "cp"]
        command += ["--python-version", python]
        for tag in PLATFORMS:
            command += ["--platform", tag]
        return subprocess.run(
            [*command, *requirements], capture_output=True, text=True, timeout=900
        )


def pins(path: Path) -> list[str]:
    """The requirement lines of a file, without comments and options; files it
    includes with -r are checked on their own (see files())."""
    out = []
    for line in path.read_text().splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith(("#", "-")):
            out.append(line)
    return out


def files(paths: list[Path]) -> list[Path]:
    """`paths` and every file they include with -r, each once."""
    seen: list[Path] = []
    todo = [p.resolve() for p in paths]
    while todo:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.append(path)
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] in ("-r", "--requirement"):
                todo.append((path.parent / parts[1]).resolve())
    return seen


def check(python: str, path: Path) -> list[str]:
    """The pins of `path` that have no wheel for `python`; [] when all have one."""
    wanted = pins(path)
    if not wanted or _pip(python, wanted).returncode == 0:
        return []
    # One pip run stops at the first miss; ask again pin by pin to name them all.
    missing = [pin for pin in wanted if _pip(python, [pin]).returncode != 0]
    return missing or [f"(pip could not resolve {path.name})"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--python", action="append", help=f"default: {', '.join(PYTHONS)}")
    p.add_argument("--requirements", type=Path, action="append", help="default: requirements/*")
    args = p.parse_args(argv)
    pythons = args.python or list(PYTHONS)
    for python in pythons:
        if not re.fullmatch(r"3\.\d+", python):
            print(f"error: --python {python}: expected a version like 3.12", file=sys.stderr)
            return 2
    for path in args.requirements or REQUIREMENTS:
        if not path.is_file():
            print(f"error: {path}: no such requirements file", file=sys.stderr)
            return 2
    jobs = [
        (path, python) for path in files(args.requirements or REQUIREMENTS) for python in pythons
    ]
    # pip spends its time waiting on the index: a few at once.
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda job: check(job[1], job[0]), jobs))
    failures = 0
    for (path, python), missing in zip(jobs, results, strict=True):
        if missing:
            failures += 1
            print(
                f"error: {path.name}: no wheel for Python {python} "
                f"(x86_64, glibc 2.{GLIBC_MINOR}): {', '.join(missing)}",
                file=sys.stderr,
            )
    if not failures:
        names = ", ".join(p.name for p in files(args.requirements or REQUIREMENTS))
        print(f"ok: every pin in {names} has a wheel for Python {', '.join(pythons)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
