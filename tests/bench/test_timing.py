"""Timing: percentiles, the drift check over fifths of the calls, and peak memory."""

from pathlib import Path

from bench import timing


def test_latency_is_reported_per_fifth_of_the_calls_so_drift_shows(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock[0])
    # 50 warm-up calls, then 120 at 100 µs, then the machine slows to 300 µs.
    calls = iter([1e-4] * (50 + 120) + [3e-4] * (80 + 30))

    def call():
        clock[0] += next(calls)

    figures = timing.timed(call, 200, warmup=50)
    assert [round(us) for us in figures["round_p50_us"]] == [100, 100, 100, 300, 300]
    assert round(figures["p50_us"]) == 100 and figures["n"] == 200
    assert "round_p50_us" not in timing.timed(call, 30, warmup=0)  # too few to split


def test_percentiles_and_spread():
    figures = timing.percentiles([i / 1e6 for i in range(1, 101)])
    assert round(figures["p50_us"], 1) == 50.5 and round(figures["p99_us"]) == 99
    assert timing.spread_ms([3.0, 1.0, 2.0]) == {"median_ms": 2.0, "min_ms": 1.0, "max_ms": 3.0}


def _resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_peak_memory_covers_what_the_process_holds_now():
    resident = _resident_mb()
    block = bytearray(64 << 20)  # zero-filled, so every page is resident
    assert timing.peak_rss_mb() >= resident + 60
    del block
