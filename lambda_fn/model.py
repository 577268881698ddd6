"""The ONNX model as serving sees it: a session plus what its metadata says."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort

from contract.machine import vcpus
from contract.schema import Schema

if TYPE_CHECKING:  # imported when a batch first needs the pool: the API never does
    from concurrent.futures import ThreadPoolExecutor

DEFAULT_MODEL_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.onnx")


class ModelLoadError(Exception):
    """The configured model cannot be loaded; the function cannot start."""


def _vcpus() -> int:
    return vcpus()


# Below this many rows one thread answers sooner than several (no wake-ups).
PARALLEL_ROWS = 512
OUTPUTS = ["probability", "label"]


def _session(data: bytes, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # No graph rewrites at load: they cost a cold start about 9 ms (27 -> 19 ms for
    # the first session of a process) and change neither answers (bit for bit, a
    # test checks) nor speed for these graphs (tree ensembles, small MLPs).
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    # Errors only: the explain flag is an input with a default, which onnxruntime
    # warns about at every load (it is meant to be overridden).
    options.log_severity_level = 3
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


@dataclass
class Model:
    """One onnxruntime session with one thread answers everything. Batches of
    PARALLEL_ROWS rows or more are cut into one slice of rows per vCPU
    (Lambda gives vCPUs in proportion to memory), scored at once on that same
    session: onnxruntime lets threads share a session and releases the GIL
    while it runs. Cutting by rows, not trees, keeps every row's probability
    bit for bit what it is when scored alone, so the API, a whole file and a
    file cut into ranges all give the same answer; onnxruntime's own
    multi-threaded tree kernel sums in a different order (7th digit)."""

    session: ort.InferenceSession
    schema: Schema
    threshold: float
    version: str
    metadata: dict
    data: bytes = b""
    threads: int = 1
    _pool: ThreadPoolExecutor | None = None
    # Threads that all reach their first large batch at once create one pool.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def from_bytes(cls, data: bytes, threads: int | None = None) -> Model:
        try:
            session = _session(data, 1)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelLoadError(f"not a loadable ONNX model: {exc}") from exc
        meta = session.get_modelmeta().custom_metadata_map
        missing = [k for k in ("schema", "threshold", "model_version") if k not in meta]
        if missing:
            raise ModelLoadError(f"model metadata lacks {', '.join(missing)}; re-export it")
        try:
            schema = Schema.from_json(meta["schema"])
        except (ValueError, KeyError) as exc:
            raise ModelLoadError(f"model schema unreadable: {exc}") from exc
        return cls(
            session,
            schema,
            float(meta["threshold"]),
            meta["model_version"],
            meta,
            data=data,
            threads=threads or _vcpus(),
        )

    @classmethod
    def load(cls, path: str | None = None, s3_uri: str | None = None) -> Model:
        if s3_uri:
            return cls.from_bytes(_read_s3(s3_uri))
        path = path or DEFAULT_MODEL_PATH
        try:
            with open(path, "rb") as fh:
                return cls.from_bytes(fh.read())
        except OSError as exc:
            raise ModelLoadError(f"cannot read model file {path}: {exc.strerror}") from exc

    @property
    def labels(self) -> tuple[str, str]:
        return self.schema.negative_label, self.schema.positive_label

    def predict(
        self, columns: dict[str, np.ndarray], outputs=OUTPUTS, flags: dict | None = None
    ) -> tuple[np.ndarray, ...]:
        """columns: one [N, 1] array per feature (float32 or object strings);
        flags: inputs that are not per row (reasons.EXPLAIN_INPUT), sent whole."""
        rows = len(next(iter(columns.values())))
        if self.threads < 2 or rows < PARALLEL_ROWS:
            return tuple(self.session.run(outputs, {**columns, **flags} if flags else columns))
        flags = flags or {}
        step = -(-rows // self.threads)
        slices = [
            {**{k: v[i : i + step] for k, v in columns.items()}, **flags}
            for i in range(0, rows, step)
        ]
        pool = self._worker_pool()
        pending = [pool.submit(self.session.run, outputs, part) for part in slices[1:]]
        parts = [self.session.run(outputs, slices[0])] + [f.result() for f in pending]
        return tuple(np.concatenate([p[k] for p in parts]) for k in range(len(outputs)))

    def _worker_pool(self) -> ThreadPoolExecutor:
        """Made on first use, so that API-only containers never start its threads."""
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    from concurrent.futures import ThreadPoolExecutor

                    self._pool = ThreadPoolExecutor(self.threads - 1, "score")
        return self._pool

    def describe(self) -> dict:
        """Schema, threshold and provenance for GET /schema."""
        info = {
            "model_version": self.version,
            "threshold": self.threshold,
            "labels": {"negative": self.labels[0], "positive": self.labels[1]},
            "features": [f.to_dict() for f in self.schema.features],
            "example_record": self.schema.example_record(),
        }
        for key in ("learner", "strategy", "trained_at", "training_data_sha256"):
            if key in self.metadata:
                info[key] = self.metadata[key]
        if "test_metrics" in self.metadata:
            info["test_metrics"] = json.loads(self.metadata["test_metrics"])
        return info


def _read_s3(uri: str) -> bytes:
    import boto3

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or not key:
        raise ModelLoadError(f"MODEL_S3_URI must look like s3://bucket/key.onnx, got {uri!r}")
    try:
        return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:
        raise ModelLoadError(f"cannot read {uri}: {exc}") from exc
