"""The bars the benchmarks are held to, as data: what the report's target
table shows and what `check` decides, from one place."""

from __future__ import annotations

from dataclasses import dataclass

AT_MOST, AT_LEAST = "at most", "at least"


@dataclass(frozen=True)
class Target:
    name: str
    what: str  # the report's wording; {bound} is where the bound goes
    bound: float
    unit: str  # "µs", "ms", "MB", "×" (a ratio) or "%" (a fraction shown in percent)
    direction: str  # AT_MOST or AT_LEAST
    figure: tuple[str, ...]  # where the measured value sits in the figures
    digits: int = 0  # decimals of the measured value in the report

    def met(self, value: float) -> bool:
        return value <= self.bound if self.direction == AT_MOST else value >= self.bound

    def measured(self, figures: dict) -> float | None:
        """The target's value in `figures`, or None when that section was not measured."""
        node = figures
        for key in self.figure:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node

    def show(self, value: float) -> str:
        if self.unit == "%":
            return f"{value:.{self.digits}%}"
        if self.unit == "×":
            return f"{value:.{self.digits}f}×"
        return f"{value:.{self.digits}f} {self.unit}"

    def text(self) -> str:
        sign = "≤" if self.direction == AT_MOST else "≥"
        if self.unit == "%":
            bound = f"{self.bound * 100:g} %"
        elif self.unit == "×":
            bound = f"{self.bound:g}×"
        else:
            bound = f"{self.bound:g} {self.unit}"
        return self.what.format(bound=f"{sign} {bound}")


TARGETS = (
    Target(
        "single_record_p50",
        "single-record p50 {bound}",
        150,
        "µs",
        AT_MOST,
        ("single_record", "winner", "handler", "p50_us"),
    ),
    Target(
        "speedup_vs_pandas",
        "{bound} faster than pandas + scikit-learn",
        30,
        "×",
        AT_LEAST,
        ("single_record", "winner", "speedup_vs_pandas"),
    ),
    Target(
        "batch_throughput",
        "batch rows/s {bound} pandas (one thread each)",
        3,
        "×",
        AT_LEAST,
        ("batch", "full", "throughput_ratio"),
        digits=2,
    ),
    Target(
        "batch_memory",
        "batch peak memory {bound} of pandas",
        0.2,
        "%",
        AT_MOST,
        ("batch", "full", "memory_ratio"),
    ),
    Target(
        "cold_start",
        "cold start {bound}",
        350,
        "ms",
        AT_MOST,
        ("cold_start", "handler", "median_ms"),
    ),
    Target(
        "cold_start_rie",
        "cold start under the real runtime, tracing on {bound}",
        150,
        "ms",
        AT_MOST,
        ("cold_start_rie", "tracing_on", "median_ms"),
    ),
    Target(
        "serving_size",
        "serving install {bound}",
        350,
        "MB",
        AT_MOST,
        ("size", "serving_mb"),
    ),
)

# Each file's peak against the 1 MB file's, checked row by row in the memory
# table: memory must not follow the file's size or width.
MEMORY_FLAT = Target(
    "memory_flat",
    "peak memory {bound} the 1 MB file's",
    2,
    "×",
    AT_MOST,
    ("memory",),
    digits=2,
)

BY_NAME = {t.name: t for t in (*TARGETS, MEMORY_FLAT)}


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def measured(figures: dict) -> list[tuple[Target, float]]:
    """Each headline target whose section was measured, with its value."""
    pairs = ((t, t.measured(figures)) for t in TARGETS)
    return [(t, value) for t, value in pairs if value is not None]


def check(figures: dict) -> list[dict]:
    """Each measured headline target: its bound, the measured value, met or not."""
    return [
        {
            "name": t.name,
            "target": t.text(),
            "bound": t.bound,
            "unit": t.unit,
            "direction": t.direction,
            "measured": value,
            "met": t.met(value),
        }
        for t, value in measured(figures)
    ]
