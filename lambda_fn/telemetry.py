"""Logs, metrics and traces, kept off the hot path's bill.

- Logger: JSON lines in Powertools Logger's shape (level, location, message,
  timestamp, service, the Lambda context with cold_start, then the keys),
  on the standard library: importing aws_lambda_powertools costs a cold
  start 25-45 ms (its package init imports Logger, Metrics and Tracer, and
  the Logger jmespath), and the API path needs none of it.
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

import functools
import json
import logging
import math
import os
import sys
import threading
import time

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "imbalanced-classifier")
NAMESPACE = os.environ.get("METRICS_NAMESPACE", "ImbalancedClassifier")


# A record's own attributes; the rest came in `extra` (logging sets them on the record).
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class _JsonFormatter(logging.Formatter):
    """One JSON object a line, its keys in Powertools' order: the record's own,
    then the logger's keys, the invocation's context, this thread's keys, extra."""

    def __init__(self, owner: Logger):
        super().__init__()
        self.owner = owner

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": record.getMessage(),
            "timestamp": self.formatTime(record, "%Y-%m-%d %H:%M:%S")
            + f",{record.msecs:03.0f}+0000",
            "service": self.owner.service,
            **self.owner.keys(),
            **{k: v for k, v in vars(record).items() if k not in _STANDARD},
        }
        trace = os.environ.get("_X_AMZN_TRACE_ID", "")
        if trace:
            doc["xray_trace_id"] = trace.split(";")[0].removeprefix("Root=")
        if record.exc_info:
            doc["exception_name"] = record.exc_info[0].__name__
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, separators=(",", ":"))


class Logger:
    """The subset of Powertools' Logger this function uses, safe under threads:
    append_keys for the container, thread_safe_append_keys/clear for one
    invocation, inject_lambda_context for the context keys of each call."""

    _cold_start = True

    def __init__(self, service: str = SERVICE, level: str | None = None, stream=None):
        self.service = service
        self._logger = logging.getLogger(f"lambda_fn.{service}")
        self._logger.propagate = False
        env = os.environ
        level = level or env.get("POWERTOOLS_LOG_LEVEL") or env.get("AWS_LAMBDA_LOG_LEVEL")
        self._logger.setLevel((level or "INFO").upper())
        self.registered_formatter = _JsonFormatter(self)
        handler = logging.StreamHandler(stream or sys.stdout)
        handler.setFormatter(self.registered_formatter)
        self._logger.handlers = [handler]
        self._keys: dict = {}
        self._local = threading.local()

    def keys(self) -> dict:
        local = self._local
        return {**self._keys, **getattr(local, "context", {}), **getattr(local, "keys", {})}

    def append_keys(self, **keys) -> None:
        self._keys = {**self._keys, **keys}  # replaced whole: readers never see it half-made

    def thread_safe_append_keys(self, **keys) -> None:
        self._local.keys = {**getattr(self._local, "keys", {}), **keys}

    def thread_safe_clear_keys(self) -> None:
        self._local.keys = {}

    def inject_lambda_context(self, fn):
        @functools.wraps(fn)
        def wrapper(event, context):
            cold, Logger._cold_start = Logger._cold_start, False
            self._local.context = {
                "cold_start": cold,
                "function_name": getattr(context, "function_name", None),
                "function_memory_size": getattr(context, "memory_limit_in_mb", None),
                "function_arn": getattr(context, "invoked_function_arn", None),
                "function_request_id": getattr(context, "aws_request_id", None),
            }
            try:
                return fn(event, context)
            finally:
                self._local.context = {}

        return wrapper

    def _log(self, level: int, message: str, extra: dict | None, **kwargs) -> None:
        if self._logger.isEnabledFor(level):
            self._logger.log(level, message, extra=extra, stacklevel=3, **kwargs)

    def debug(self, message: str, extra: dict | None = None) -> None:
        self._log(logging.DEBUG, message, extra)

    def info(self, message: str, extra: dict | None = None) -> None:
        self._log(logging.INFO, message, extra)

    def warning(self, message: str, extra: dict | None = None) -> None:
        self._log(logging.WARNING, message, extra)

    def error(self, message: str, extra: dict | None = None) -> None:
        self._log(logging.ERROR, message, extra)

    def exception(self, message: str, extra: dict | None = None) -> None:
        self._log(logging.ERROR, message, extra, exc_info=True)

    def setLevel(self, level) -> None:  # noqa: N802 - logging's name
        self._logger.setLevel(level)

    def addHandler(self, handler: logging.Handler) -> None:  # noqa: N802
        self._logger.addHandler(handler)

    def removeHandler(self, handler: logging.Handler) -> None:  # noqa: N802
        self._logger.removeHandler(handler)


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
