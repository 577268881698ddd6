"""The machine the figures come from, read when the benchmark runs, and the
environment every child process it starts gets."""

from __future__ import annotations

import os
import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Library thread pools a child process is pinned with, so that "one thread"
# means one thread for numpy, XGBoost, TensorFlow and onnxruntime alike.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)
# Log levels that keep the children's stdout to their one JSON line.
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3", "POWERTOOLS_LOG_LEVEL": "WARNING"}


def vcpus() -> int:
    """The CPUs this process may run on (what Lambda's vCPU count is to a function)."""
    from contract.machine import vcpus as allowed

    return allowed()


def child_env(threads: int) -> dict[str, str]:
    """This environment with every thread pool at `threads`, quiet logs, and the repo importable."""
    env = {**os.environ, **dict.fromkeys(THREAD_VARIABLES, str(threads)), **QUIET}
    env["PYTHONPATH"] = str(ROOT)
    return env


def _first(path: str, prefix: str) -> str | None:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return None
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(prefix)), None)


def describe() -> dict:
    """CPU model, vCPUs, memory, OS and Python of this machine."""
    memory = _first("/proc/meminfo", "MemTotal")
    return {
        "cpu": _first("/proc/cpuinfo", "model name") or platform.processor() or "unknown CPU",
        "vcpus": vcpus(),
        "memory_gb": round(int(memory.split()[0]) / 2**20, 1) if memory else None,
        "system": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
    }


def sentence(machine: dict | None) -> str:
    """The machine as the report names it."""
    if not machine:
        return "a machine the figures do not describe"
    memory = f", {machine['memory_gb']} GB memory" if machine.get("memory_gb") else ""
    return (
        f"a machine with {machine['vcpus']} vCPUs ({machine['cpu']}){memory}, "
        f"{machine['system']}, Python {machine['python']}"
    )
