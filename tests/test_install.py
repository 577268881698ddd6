"""`pip install .` gives the three commands, usable outside the repository.

A fresh venv gets the project alone (--no-deps: the training stack is large and
already in the test venv, whose site-packages is put on PYTHONPATH for the
dependencies); the package is built from a copy of the files a source
distribution holds, so that nothing else in the checkout can help it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

from tests.conftest import ROOT

PACKAGES = ("contract", "train", "export", "lambda_fn", "serve")
COMMANDS = ("imbalanced-train", "imbalanced-export", "imbalanced-serve")


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    folder = tmp_path_factory.mktemp("install")
    source = folder / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in PACKAGES:
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    env = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    # The build uses this venv's setuptools (no isolated build env to download).
    out = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install",
         "--quiet", "--no-deps", "--no-build-isolation", "--disable-pip-version-check",
         str(source)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return env


def run(venv, *command, cwd):
    deps = sysconfig.get_paths()["purelib"]  # this venv's packages, for the dependencies
    return subprocess.run(
        [str(venv / "bin" / command[0]), *command[1:]],
        capture_output=True, text=True, cwd=cwd, timeout=300,
        env={"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "PYTHONPATH": deps, "HOME": str(cwd)},
    )  # fmt: skip


def test_the_commands_run_from_outside_the_repository(venv, tmp_path):
    for command in COMMANDS:
        assert (venv / "bin" / command).is_file(), command
    out = run(venv, "imbalanced-train", "--help", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "--data" in out.stdout and "--target" in out.stdout
    for command in ("imbalanced-export", "imbalanced-serve"):
        out = run(venv, command, "--help", cwd=tmp_path)
        assert out.returncode == 0 and "usage:" in out.stdout, (command, out.stderr)


def test_the_installed_packages_are_the_ones_imported(venv, tmp_path):
    """contract/ is installed with the stages, and nothing comes from the checkout."""
    code = "import contract.openapi, contract.values, train, serve.local; print(train.__file__)"
    out = run(venv, "python", "-c", code, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(str(venv)), out.stdout
    site = next(venv.glob("lib/python3.*/site-packages"))
    assert {p.name for p in site.iterdir()} >= set(PACKAGES)


def test_a_user_mistake_is_one_line_from_the_installed_command(venv, tmp_path):
    out = run(venv, "imbalanced-serve", "--model", str(tmp_path / "none.onnx"), cwd=tmp_path)
    assert out.returncode == 2 and "model not found" in out.stderr
    assert "Traceback" not in out.stderr
