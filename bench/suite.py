"""Every section in the order `make bench` runs them, into one figures dict."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.batch import batch_compare
from bench.chunked import chunked_path
from bench.cold_start import cold_start, rie_cold_start
from bench.latency import handler_profile, single_record
from bench.machine import describe
from bench.memory import memory_bounds
from bench.operators import operator_profile
from bench.size import deployment_size
from bench.training import training_times


@dataclass(frozen=True)
class Sizes:
    """How much each section measures (the command line's numbers)."""

    rows: int = 1_000_000  # the batch race's full size, and the chunked file's
    memory_mb: int = 200  # the large file of the memory bar
    wide_rows: int = 2000  # rows of the 5,000-column file
    requests: int = 5000  # single-record calls per path
    cold_runs: int = 10  # fresh processes per stack
    rie_runs: int = 7  # fresh starts under the real runtime


def _save_network(keras_run: Path, folder: Path) -> Path:
    """The Keras run's network as a .keras file, what TensorFlow's cold start loads."""
    import joblib

    model = joblib.load(keras_run / "model.joblib")
    if model.members:
        raise SystemExit(f"{keras_run}: an ensemble; train the Keras run with --no-ensemble")
    net = dict(model.inference_steps())["model"].model_
    path = folder / "network.keras"
    net.save(path)
    return path


def measure_all(
    run: Path, keras_run: Path | None, data: Path, target: str, runs: Path | None, sizes: Sizes
) -> dict:
    os.environ["MODEL_PATH"] = str(run / "model.onnx")
    figures = {"machine": describe()}
    figures["single_record"] = {"winner": single_record(run, data, sizes.requests)}
    if keras_run is not None:
        figures["single_record"]["keras"] = single_record(keras_run, data, sizes.requests)
    figures["handler_profile"] = handler_profile(run, data)
    figures["batch"] = batch_compare(run, data, target, sizes.rows)
    figures["chunked"] = chunked_path(run, data, target, sizes.rows)
    figures["memory"] = memory_bounds(run, data, target, sizes.memory_mb, sizes.wide_rows)
    figures["onnxruntime_operator_share"] = operator_profile(run, data, target)
    with tempfile.TemporaryDirectory() as tmp:
        keras_file = _save_network(keras_run, Path(tmp)) if keras_run is not None else None
        figures["cold_start"] = cold_start(run, keras_file, sizes.cold_runs)
    figures["cold_start_rie"] = rie_cold_start(run, sizes.rie_runs)
    figures["size"] = deployment_size(run, keras_run)
    figures["training"] = training_times(runs)
    return figures
