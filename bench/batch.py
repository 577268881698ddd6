"""Section 2: batch CSV scoring, the handler's S3 path against pandas
read_csv + predict_proba + to_csv, each in a fresh process (bench.worker)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.inputs import make_big_csv
from bench.machine import vcpus
from bench.worker import measure

PHASES = {
    "parse_seconds": "read and parse (handler: chunks to arrays; pandas: `read_csv`)",
    "score_seconds": "score (onnxruntime / the pipeline's `predict_proba`)",
    "write_seconds": "write (handler: rows as they came + 2 cells; pandas: `to_csv`)",
    "total_seconds": "total",
}


def same_answers(handler_csv: Path, pandas_csv: Path) -> dict:
    """Both paths must have scored the same rows the same way for the race to count."""
    import numpy as np
    import pandas as pd

    a = pd.read_csv(handler_csv, usecols=["probability", "label"])
    b = pd.read_csv(pandas_csv, usecols=["probability", "label"])
    if len(a) != len(b):
        return {"rows_differ": [len(a), len(b)]}
    return {
        "max_abs_probability_difference": float(np.abs(a.probability - b.probability).max()),
        "labels_equal": float((a.label == b.label).mean()),
    }


def _race(run: Path, csv_path: Path, tmp: Path, name: str, threads: int) -> dict:
    """Both sides on one file, `threads` each, and whether they agree."""
    entry = {"threads": threads, "file_mb": csv_path.stat().st_size / 1e6}
    for kind in ("handler", "pandas"):
        sink = tmp / f"{kind}-{name}"
        sink.mkdir()
        entry[kind] = measure(kind, run, csv_path, sink, threads=threads)
        entry[kind]["rows_per_s"] = entry[kind]["rows"] / entry[kind]["seconds"]
    entry["throughput_ratio"] = entry["handler"]["rows_per_s"] / entry["pandas"]["rows_per_s"]
    entry["memory_ratio"] = entry["handler"]["peak_rss_mb"] / entry["pandas"]["peak_rss_mb"]
    entry["agreement"] = same_answers(
        tmp / f"handler-{name}" / "scored__big.csv", tmp / f"pandas-{name}" / "scored.csv"
    )
    return entry


def batch_compare(run: Path, data: Path, target: str, rows: int, full_only: bool = False) -> dict:
    """Half and full size on one thread each (the target), then full size with
    every vCPU each (what a Lambda function with that many vCPUs sees);
    `full_only`: the target's race alone (full size, one thread each)."""
    out = {}
    runs = {"half": (rows // 2, 1), "full": (rows, 1)}
    if vcpus() > 1:
        runs["full_all_vcpus"] = (rows, vcpus())
    if full_only:
        runs = {"full": runs["full"]}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, (size, threads) in runs.items():
            csv_path = tmp / f"big-{size}.csv"
            n = make_big_csv(data, target, size, csv_path)
            out[name] = {"rows": n, **_race(run, csv_path, tmp, name, threads)}
            csv_path.unlink()
    return out


def _table(batch: dict) -> list[str]:
    lines = [
        "| rows | threads each | file MB | handler rows/s | pandas rows/s | ratio | "
        "handler peak MB | pandas peak MB | memory ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in batch.values():
        lines.append(
            f"| {entry['rows']:,} | {entry.get('threads', 1)} | {entry['file_mb']:.0f} "
            f"| {entry['handler']['rows_per_s']:,.0f} "
            f"| {entry['pandas']['rows_per_s']:,.0f} | {entry['throughput_ratio']:.2f} "
            f"| {entry['handler']['peak_rss_mb']:.0f} | {entry['pandas']['peak_rss_mb']:.0f} "
            f"| {entry['memory_ratio']:.2f} |"
        )
    agreements = [entry.get("agreement", {}) for entry in batch.values()]
    if all("max_abs_probability_difference" in a for a in agreements):
        return [
            *lines,
            "",
            "Both paths give the same answers in every run: largest probability difference "
            f"{max(a['max_abs_probability_difference'] for a in agreements):.1e}, labels equal "
            f"on {min(a['labels_equal'] for a in agreements):.2%} of rows.",
        ]
    return [*lines, "", f"**The two paths scored different rows**: {agreements}."]


def _where_time_goes(full: dict, operator_share: dict) -> list[str]:
    lines = ["", "Time split at full size, in seconds:", "", "| phase | handler | pandas |"]
    lines.append("|---|---|---|")
    for key, label in PHASES.items():
        lines.append(
            f"| {label} | {full['handler']['timings'][key]:.2f} "
            f"| {full['pandas']['timings'][key]:.2f} |"
        )
    cpu = {side: full[side].get("cpu_seconds") for side in ("handler", "pandas")}
    if all(cpu.values()):
        lines.append(
            "| CPU seconds of the whole process, user + system "
            f"| {cpu['handler']['user']:.2f} + {cpu['handler']['system']:.2f} "
            f"| {cpu['pandas']['user']:.2f} + {cpu['pandas']['system']:.2f} |"
        )
    h, pd_ = full["handler"]["timings"], full["pandas"]["timings"]
    h_rest = h["total_seconds"] - h["score_seconds"]
    pd_rest = pd_["total_seconds"] - pd_["score_seconds"]
    tree_share = max(operator_share.values())
    return [
        *lines,
        "",
        f"Inside onnxruntime, kernel time by operator: {operator_share}.",
        "",
        f"Scoring takes the handler {h['score_seconds']:.1f} s, {tree_share:.0%} of it in",
        "onnxruntime's tree-ensemble kernel, and the pipeline "
        f"{pd_['score_seconds']:.1f} s, its scikit-learn",
        "preprocessing included. Everything else takes the handler "
        f"{h_rest:.1f} s and pandas {pd_rest:.1f} s:",
        f"`read_csv` and typing the columns take pandas {pd_['parse_seconds']:.1f} s, the "
        f"handler's split and column parsing {h['parse_seconds']:.1f} s;",
        f"`to_csv` formats every cell again ({pd_['write_seconds']:.1f} s) where the "
        "handler writes each row",
        f"back as it came plus two cells ({h['write_seconds']:.1f} s).",
        *_cpu_note(cpu),
    ]


def _cpu_note(cpu: dict) -> list[str]:
    """What the wall-clock ratio owes to the kernel: page faults on the memory
    a process first touches cost more on some machines (VMs that back memory
    lazily) than on others, and pandas touches many times more."""
    if not all(cpu.values()):
        return []
    h, pd_ = cpu["handler"], cpu["pandas"]
    return [
        "",
        f"Of pandas' CPU time, {pd_['system']:.1f} s is system time (the handler's: "
        f"{h['system']:.1f} s), mostly page faults",
        "on the memory it touches; how much a fault costs depends on the machine "
        "(this one is a VM).",
        f"Counting user CPU alone, the handler does the same work in "
        f"{pd_['user'] / h['user']:.2f}× less time than pandas.",
    ]


def _all_vcpus(batch: dict) -> list[str]:
    wide = batch.get("full_all_vcpus")
    if not wide:
        return []
    h, pd_ = batch["full"]["handler"]["timings"], batch["full"]["pandas"]["timings"]
    wh, wp = wide["handler"]["timings"], wide["pandas"]["timings"]
    return [
        "",
        f"With {wide['threads']} threads each (the last row: a Lambda function with "
        f"{wide['threads']} vCPUs), the handler",
        f"runs at {wide['throughput_ratio']:.2f}× pandas' rows/s. Scoring takes the "
        f"handler {wh['score_seconds']:.1f} s",
        f"(one thread: {h['score_seconds']:.1f} s) and the pipeline "
        f"{wp['score_seconds']:.1f} s (one thread: {pd_['score_seconds']:.1f} s);",
        "parsing and writing stay on one thread on both sides.",
    ]


def markdown(figures: dict) -> list[str]:
    batch = figures["batch"]
    return [
        "## 2. Batch CSV scoring",
        "",
        "The handler's S3 path (stream, parse, score, write) against pandas `read_csv` +",
        "`predict_proba` + `to_csv`, on the marketing data repeated; each in a fresh",
        "process; S3 is a stand-in on local disk for both (`bench/local_s3.py`), so",
        "neither process holds the file in memory. Peak memory is the worker process's own peak resident set (VmHWM).",
        "",
        *_table(batch),
        *_where_time_goes(batch["full"], figures["onnxruntime_operator_share"]),
        *_all_vcpus(batch),
        "",
    ]
