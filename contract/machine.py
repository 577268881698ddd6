"""The machine a stage runs on, as every stage counts it."""

from __future__ import annotations

import os


def vcpus() -> int:
    """The CPUs this process may run on (its affinity mask where the platform
    has one, else every CPU), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)
