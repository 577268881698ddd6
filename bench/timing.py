"""How a figure is timed: percentiles of repeated calls, the spread of
fresh-process times, and a process's own peak memory."""

from __future__ import annotations

import resource
import statistics
import time
from pathlib import Path

# A latency run is also cut into this many consecutive slices; the spread of
# their p50s is how far the machine's own speed moved during the run.
ROUNDS = 5


def percentiles(samples: list[float]) -> dict:
    samples = sorted(samples)
    return {
        "p50_us": statistics.median(samples) * 1e6,
        "p99_us": samples[int(0.99 * (len(samples) - 1))] * 1e6,
        "n": len(samples),
    }


def timed(fn, n: int, warmup: int = 50) -> dict:
    """Percentiles of n calls, and the p50 of each of ROUNDS consecutive
    slices: their spread is how far the machine's own speed moved meanwhile."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    result = percentiles(out)
    size = n // ROUNDS
    if size >= 20:
        result["round_p50_us"] = [
            statistics.median(out[k * size : (k + 1) * size]) * 1e6 for k in range(ROUNDS)
        ]
    return result


def spread_ms(samples_ms: list[float]) -> dict:
    """Median, fastest and slowest of a few fresh-process times, in ms."""
    return {
        "median_ms": statistics.median(samples_ms),
        "min_ms": min(samples_ms),
        "max_ms": max(samples_ms),
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory.

    Read from VmHWM, not getrusage: ru_maxrss survives exec, so a worker
    started from a large parent would report the parent's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
