"""Logs, metrics and traces, kept off the hot path's bill.

- Logger: Powertools Logger (JSON, correlation id, model version).
- Metrics: CloudWatch embedded metric format written as one JSON line per
  invocation. Powertools' Metrics validates every add_metric call (about
  20 µs each), a third of a single-record request; the EMF document itself
  is a fixed shape, so it is built here.
- Tracer: Powertools Tracer when X-Ray is active for the function (Lambda sets
  AWS_XRAY_DAEMON_ADDRESS); otherwise a no-op. Created on first use, and only
  the S3 path uses it (to trace its S3 calls): aws_xray_sdk imports botocore,
  about 200 ms of init, and the API path calls no other service, so Lambda's
  own segment for the invocation says all there is to say about it.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time

from aws_lambda_powertools import Logger

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "imbalanced-classifier")
NAMESPACE = os.environ.get("METRICS_NAMESPACE", "ImbalancedClassifier")

logger = Logger(service=SERVICE)


class _NoTracer:
    def capture_lambda_handler(self, fn):
        return fn

    def capture_method(self, fn):
        return fn

    def patch(self, modules):
        pass


_tracer = None
_tracer_lock = threading.Lock()


def tracer():
    """The function's Tracer (a no-op unless X-Ray is active), made on first call."""
    global _tracer
    with _tracer_lock:
        if _tracer is None:
            active = os.environ.get("AWS_XRAY_DAEMON_ADDRESS") and os.environ.get(
                "POWERTOOLS_TRACE_DISABLED", ""
            ).lower() not in ("1", "true")
            if active:
                from aws_lambda_powertools import Tracer

                _tracer = Tracer(service=SERVICE, auto_patch=False)
            else:
                _tracer = _NoTracer()
        return _tracer


class Metrics:
    """Collects metric values during one invocation and writes one EMF line.

    Safe under threads: each thread collects its own invocation's values
    (a thread-local), and each line is written whole, under a lock, so
    concurrent invocations neither mix their counts nor interleave lines."""

    def __init__(self, namespace: str = NAMESPACE, service: str = SERVICE, out=None):
        self.namespace = namespace
        self.service = service
        self.out = out
        self.disabled = os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("1", "true")
        self.dimensions: dict[str, str] = {}
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._cached: tuple = (None, "")  # (shape, head), replaced whole

    def _collected(self) -> dict[str, tuple[str, list]]:
        """This thread's metrics so far: name -> (unit, values)."""
        try:
            return self._local.collected
        except AttributeError:
            collected = self._local.collected = {}
            return collected

    def add(self, name: str, value: float, unit: str = "None") -> None:
        """name: a plain identifier (written into the JSON unescaped)."""
        collected = self._collected()
        entry = collected.get(name)
        if entry is None:
            collected[name] = (unit, [value])
        else:
            entry[1].append(value)

    def flush(self) -> None:
        collected = self._collected()
        if not collected or self.disabled:
            collected.clear()
            return
        # The metric definitions repeat from one invocation to the next: keep
        # their JSON and only encode the values.
        shape = (tuple(self.dimensions.items()), tuple((n, e[0]) for n, e in collected.items()))
        cached_shape, head = self._cached
        if shape != cached_shape:
            head = self._head(shape)
            self._cached = (shape, head)
        encoded = ",".join(
            f'"{n}":{_number(v[0])}' if len(v) == 1 else f'"{n}":[{",".join(map(_number, v))}]'
            for n, (_, v) in collected.items()
        )
        collected.clear()
        line = (head % int(time.time() * 1000)) + "," + encoded + "}\n"
        with self._write_lock:
            out = self.out or sys.stdout
            out.write(line)
            if hasattr(out, "flush"):
                out.flush()

    def _head(self, shape: tuple) -> str:
        """The EMF document up to its values, with %d for the timestamp."""
        dimensions, metrics = shape
        dims = {"service": self.service, **dict(dimensions)}
        definition = {
            "Namespace": self.namespace,
            # Per model version, and per service across versions (what the
            # template's drift alarms watch, so they survive a new model).
            "Dimensions": [list(dims), ["service"]] if len(dims) > 1 else [list(dims)],
            "Metrics": [{"Name": n, "Unit": unit} for n, unit in metrics],
        }
        return (
            '{"_aws":{"Timestamp":%d,"CloudWatchMetrics":['
            + json.dumps(definition, separators=(",", ":")).replace("%", "%%")
            + "]},"
            + json.dumps(dims, separators=(",", ":"))[1:-1].replace("%", "%%")
        )


def _number(value) -> str:
    value = float(value)
    return repr(value) if math.isfinite(value) else "null"
