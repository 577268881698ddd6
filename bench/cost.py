"""What a month of traffic costs: this machine's measured figures times published
prices. Pure arithmetic and Markdown; scripts/cost.py reads the figures and writes
docs/cost.md. Every price carries its source and the date it was read."""

from __future__ import annotations

import math
from dataclasses import dataclass

FULL_VCPU_MB = 1769  # Lambda gives one vCPU at 1,769 MB and CPU in proportion below it
MEMORY_SIZES = (128, 256, 512, 1024, 1769, 2048, 3008)
HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
RSS_MARGIN = 1.5  # memory size must hold 1.5x the measured peak RSS (runtime client, growth)
COLD_SHARE = 0.01  # AWS: cold starts in under 1 % of invocations (the INIT billing post)
REQUEST_KB = 1.5  # request + response body of one record (infra/events/api-predict-v1.json)
FILE_MB = 100  # batch files are assumed 100 MB each (one invocation, one cold start each)
API_LOAD = 0.5  # an always-on server is sized to run at most half busy
LMI_INSTANCES = 3  # Managed Instances launch three instances by default (one per AZ)


@dataclass(frozen=True)
class Price:
    value: float
    unit: str
    what: str
    source: str
    read: str


PRICES = {
    "request": Price(
        0.20e-6, "USD / request", "Lambda requests, $0.20 per million (also Managed Instances)",
        "https://raw.githubusercontent.com/api-evangelist/aws-lambda/refs/heads/main/plans/"
        "aws-lambda-plans-pricing.yml (a transcript of https://aws.amazon.com/lambda/pricing/)",
        "2026-09-20"),
    "gbs_x86_64": Price(
        0.0000166667, "USD / GB-s", "Lambda duration, x86_64, first 6 billion GB-s a month",
        "https://cloudchipr.com/blog/aws-lambda-pricing; the same figure in "
        "https://app.unpkg.com/artillery@2.0.28/files/lib/platform/aws-lambda/prices.js",
        "2024 (page date)"),
    "gbs_arm64": Price(
        0.0000133334, "USD / GB-s", "Lambda duration, arm64, first 7.5 billion GB-s a month",
        "https://cloudchipr.com/blog/aws-lambda-pricing; the same figure in "
        "https://app.unpkg.com/artillery@2.0.28/files/lib/platform/aws-lambda/prices.js",
        "2024 (page date)"),
    "sagemaker_gbs": Price(
        0.0000200, "USD / GB-s", "SageMaker Serverless Inference duration ($0.0000200 a second "
        "per 1 GB of memory, us-east-1). NOT found in the pages searched; the figure is AWS's "
        "published rate as known to the author: check it", "https://aws.amazon.com/sagemaker/pricing/",
        "not retrieved"),
    "sagemaker_data_gb": Price(
        0.016, "USD / GB", "SageMaker Serverless Inference data processed in and out. NOT found "
        "in the pages searched; as above", "https://aws.amazon.com/sagemaker/pricing/",
        "not retrieved"),
    "fargate_vcpu_h": Price(
        0.04048, "USD / vCPU-hour", "Fargate, Linux/x86, us-east-1",
        "https://www.wring.co/blog/aws-fargate-pricing-guide (also https://www.vantage.sh/blog/fargate-pricing)",
        "2026-03-10"),
    "fargate_gb_h": Price(
        0.004445, "USD / GB-hour", "Fargate memory, Linux/x86, us-east-1",
        "https://www.wring.co/blog/aws-fargate-pricing-guide (also https://www.vantage.sh/blog/fargate-pricing)",
        "2026-03-10"),
    "ec2_m7g_large_h": Price(
        0.0816, "USD / hour", "EC2 m7g.large (2 vCPU, 8 GiB, Graviton3), Linux on demand, us-east-1; "
        "no x86 .large price was found in the pages searched",
        "https://www.factualminds.com/blog/amazon-ec2-on-demand-pricing-instance-families-2026/",
        "2026-06-17"),
    "lmi_fee": Price(
        0.15, "share of EC2", "Lambda Managed Instances management fee on the EC2 on-demand price",
        "https://raw.githubusercontent.com/api-evangelist/aws-lambda/refs/heads/main/plans/"
        "aws-lambda-plans-pricing.yml (a transcript of https://aws.amazon.com/lambda/pricing/)",
        "2026-09-20"),
}  # fmt: skip


@dataclass(frozen=True)
class Measured:
    """The figures `make bench` measured (docs/benchmarks.json), one vCPU."""

    handler_ms: float  # single-record handler p50
    init_ms: float  # cold start under the real runtime, tracing on, median
    mb_per_s: float  # batch CSV throughput, one thread
    rows_per_s: float
    api_rss_mb: float  # peak RSS scoring a small file
    batch_rss_mb: float  # peak RSS scoring the largest file


def share(memory_mb: int) -> float:
    return min(1.0, memory_mb / FULL_VCPU_MB)


def fits(memory_mb: int, rss_mb: float) -> bool:
    return memory_mb >= RSS_MARGIN * rss_mb


def api_ms(m: Measured, memory_mb: int) -> float:
    """Handler time at a memory size, CPU-bound: slower in proportion below one vCPU."""
    return m.handler_ms / share(memory_mb)


def init_ms(m: Measured, memory_mb: int) -> float:
    return m.init_ms / share(memory_mb)


def gb_seconds(memory_mb: int, ms: float) -> float:
    return memory_mb / 1024 * ms / 1000


def lambda_api(m: Measured, requests: float, memory_mb: int, arch: str, cold: float) -> float:
    """A month of API requests: request fee, billed 1-ms units, and billed INIT."""
    gbs = PRICES[f"gbs_{arch}"].value
    billed = math.ceil(api_ms(m, memory_mb))
    per_request = PRICES["request"].value + gb_seconds(memory_mb, billed) * gbs
    per_request += cold * gb_seconds(memory_mb, math.ceil(init_ms(m, memory_mb))) * gbs
    return requests * per_request


def sagemaker_api(m: Measured, requests: float, memory_mb: int = 1024) -> float:
    """Serverless Inference at its smallest size (1 GB): duration plus data processed."""
    duration = gb_seconds(memory_mb, math.ceil(api_ms(m, memory_mb)))
    data = REQUEST_KB / 1e6 * PRICES["sagemaker_data_gb"].value
    return requests * (duration * PRICES["sagemaker_gbs"].value + data)


def fargate_month(vcpu: float, memory_gb: float) -> float:
    hourly = vcpu * PRICES["fargate_vcpu_h"].value + memory_gb * PRICES["fargate_gb_h"].value
    return hourly * HOURS_PER_MONTH


def servers(capacity_per_month: float, load: float, minimum: int) -> int:
    return max(minimum, math.ceil(load / capacity_per_month))


def fargate_api(m: Measured, requests: float, vcpu: float = 0.25, memory_gb: float = 0.5) -> float:
    """Always-on tasks of 0.25 vCPU / 0.5 GB, as many as keep each at most half busy."""
    capacity = vcpu * 1000 / m.handler_ms * SECONDS_PER_MONTH * API_LOAD
    return servers(capacity, requests, 1) * fargate_month(vcpu, memory_gb)


def lmi_month(instances: int) -> float:
    ec2 = PRICES["ec2_m7g_large_h"].value * HOURS_PER_MONTH
    return instances * ec2 * (1 + PRICES["lmi_fee"].value)


def lmi_api(m: Measured, requests: float) -> float:
    """Three m7g.large (2 vCPU each) and the request fee; no scale to zero."""
    capacity = 2 * 1000 / m.handler_ms * SECONDS_PER_MONTH * API_LOAD
    count = servers(capacity, requests, LMI_INSTANCES)
    return lmi_month(count) + requests * PRICES["request"].value


def batch_seconds(m: Measured, gb: float, memory_mb: int) -> float:
    return gb * 1000 / (m.mb_per_s * share(memory_mb))


def lambda_batch(m: Measured, gb: float, memory_mb: int, arch: str) -> float:
    """Scoring seconds at the memory's CPU share, one invocation and one INIT per file."""
    gbs = PRICES[f"gbs_{arch}"].value
    files = math.ceil(gb * 1000 / FILE_MB)
    duration = gb_seconds(memory_mb, batch_seconds(m, gb, memory_mb) * 1000)
    init = files * gb_seconds(memory_mb, init_ms(m, memory_mb))
    return (duration + init) * gbs + files * PRICES["request"].value


def fargate_batch(m: Measured, gb: float) -> float:
    """Always-on 1 vCPU / 2 GB tasks (Fargate's smallest with a whole vCPU), fully busy."""
    capacity = m.mb_per_s * SECONDS_PER_MONTH / 1000
    return servers(capacity, gb, 1) * fargate_month(1, 2)


def lmi_batch(m: Measured, gb: float) -> float:
    capacity = 2 * m.mb_per_s * SECONDS_PER_MONTH / 1000
    files = math.ceil(gb * 1000 / FILE_MB)
    return lmi_month(servers(capacity, gb, LMI_INSTANCES)) + files * PRICES["request"].value


def deploy_memory(rss_mb: float) -> int:
    """The smallest size at which the measured figures hold: a whole vCPU (they were
    measured on one) and room for RSS_MARGIN x the peak RSS."""
    return next(s for s in MEMORY_SIZES if fits(s, rss_mb) and share(s) >= 1.0)


def cheapest_api_memory(m: Measured) -> int:
    """The size with the lowest API bill (1 % cold starts), the smallest on a tie."""
    sizes = [s for s in MEMORY_SIZES if fits(s, m.api_rss_mb)]
    return min(sizes, key=lambda s: (round(lambda_api(m, 1e6, s, "x86_64", COLD_SHARE), 9), s))


def break_even(fixed: float, per_unit: float) -> float:
    """Units a month above which a fixed monthly price beats a price per unit."""
    return fixed / per_unit


def money(usd: float) -> str:
    if usd < 0.01:
        return f"${usd:.4f}"
    if usd < 100:
        return f"${usd:,.2f}"
    return f"${usd:,.0f}"


def count(n: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            return f"{n / size:.3g}{suffix}"
    return f"{n:.3g}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
