"""Check, without Docker, that the serving image's pins install on its base.

The Dockerfile's FROM line names the Lambda Python base; its Python version
decides the Amazon Linux release, and so the glibc that wheels must fit. This
machine's newer glibc hides wheels that will not install there, so ask pip
for exactly the image's platform:

    python scripts/image_wheels.py            # both architectures, exit 1 on a miss
    python scripts/image_wheels.py --arch arm64
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
REQUIREMENTS = ROOT / "lambda_fn" / "requirements.txt"

# Lambda's Python bases: 3.8-3.11 are Amazon Linux 2 (glibc 2.26), 3.12 and
# later Amazon Linux 2023 (glibc 2.34).
AMAZON_LINUX_2_GLIBC = (2, 26)
AMAZON_LINUX_2023_GLIBC = (2, 34)
ARCHITECTURES = {"x86_64": "x86_64", "arm64": "aarch64"}  # Lambda's name -> wheel tag's


class DockerfileError(ValueError):
    """The Dockerfile does not say which Lambda base it builds on."""


@dataclass(frozen=True)
class Base:
    image: str
    python: str  # "3.12"
    default_arch: str

    def image_for(self, arch: str) -> str:
        return (
            self.image.replace(self.default_arch, arch) if arch != self.default_arch else self.image
        )

    @property
    def glibc(self) -> tuple[int, int]:
        minor = int(self.python.split(".")[1])
        return AMAZON_LINUX_2023_GLIBC if minor >= 12 else AMAZON_LINUX_2_GLIBC


def read_base(text: str) -> Base:
    """The Lambda Python base of the (last) FROM line, with ARG defaults filled in."""
    args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", text, flags=re.MULTILINE))
    froms = re.findall(r"^FROM\s+(?:--\S+\s+)?(\S+)", text, flags=re.MULTILINE)
    if not froms:
        raise DockerfileError("the Dockerfile has no FROM line")
    image = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m[1] or m[2], m[0]), froms[-1])
    match = re.fullmatch(r"public\.ecr\.aws/lambda/python:(3\.\d+)\S*", image)
    if not match:
        raise DockerfileError(f"FROM {froms[-1]} is not a Lambda Python base image")
    default_arch = args.get("ARCH", "x86_64")
    if default_arch not in ARCHITECTURES:
        raise DockerfileError(f"ARG ARCH={default_arch}: Lambda runs x86_64 or arm64")
    return Base(image=image, python=match[1], default_arch=default_arch)


def platforms(arch: str, glibc: tuple[int, int]) -> list[str]:
    """Every manylinux tag a pip on that glibc accepts (pip expands only the 2014 alias)."""
    machine = ARCHITECTURES[arch]
    tags = [f"manylinux_2_{minor}_{machine}" for minor in range(17, glibc[1] + 1)]
    return [*tags, f"manylinux2014_{machine}"]


def check(python: str, arch: str, glibc: tuple[int, int], requirements: Path) -> str | None:
    """None when every pin (and what it pulls in) has a wheel; else pip's reason, named."""
    with tempfile.TemporaryDirectory() as folder:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
        ]
        command += ["--only-binary=:all:", "--python-version", python, "--implementation", "cp"]
        for tag in platforms(arch, glibc):
            command += ["--platform", tag]
        command += ["-r", str(requirements), "-d", folder]
        run = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if run.returncode == 0:
        return None
    missing = re.findall(r"satisfies the requirement (\S+)", run.stderr)
    details = run.stderr.strip().splitlines()[-3:]
    what = f"no wheel for {', '.join(missing)}" if missing else "pip could not resolve the pins"
    return (
        f"{what} on Python {python}, {arch}, glibc {glibc[0]}.{glibc[1]} "
        f"({requirements.name}): " + " | ".join(details)
    )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dockerfile", type=Path, default=DOCKERFILE)
    p.add_argument("--requirements", type=Path, default=REQUIREMENTS)
    p.add_argument("--arch", choices=sorted(ARCHITECTURES), action="append")
    args = p.parse_args(argv)
    try:
        base = read_base(args.dockerfile.read_text())
    except (OSError, DockerfileError) as exc:
        print(f"error: {args.dockerfile}: {exc}", file=sys.stderr)
        return 2
    failures = 0
    for arch in args.arch or sorted(ARCHITECTURES):
        problem = check(base.python, arch, base.glibc, args.requirements)
        where = f"{base.image_for(arch)} ({arch}, Python {base.python}, glibc {'.'.join(map(str, base.glibc))})"
        if problem is None:
            print(f"ok: every pin in {args.requirements.name} has a wheel for {where}")
        else:
            failures += 1
            print(f"error: {problem}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
