"""What the cold start no longer pays for: Powertools on the API path, and graph
rewrites at session load; and that neither changes an answer or a log line's shape."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import onnxruntime as ort
import pytest

from contract.feeds import from_frame
from lambda_fn.model import Model
from lambda_fn.telemetry import Logger
from tests.conftest import ROOT, make_frame

NOT_ON_THE_API_PATH = ("aws_lambda_powertools", "aws_xray_sdk", "boto3", "botocore.", "s3transfer")


def test_the_api_path_imports_no_powertools(model_path):
    code = (
        "import json, sys\n"
        "from lambda_fn import app\n"
        "from tests.lambda_fn.conftest import http_event\n"
        "record = app.MODEL.schema.example_record()\n"
        "event = http_event('POST', '/predict', {'records': [record]})\n"
        "context = type('C', (), {'aws_request_id': 'r-1', 'function_name': 'f'})()\n"
        "assert app.handler(event, context)['statusCode'] == 200\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({NOT_ON_THE_API_PATH}))))\n"
    )
    env = {"MODEL_PATH": str(model_path), "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"}
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**env, "PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == []


def _scores(data: bytes, level, feeds: dict) -> tuple[np.ndarray, ...]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = level
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    rows = len(next(iter(feeds.values())))
    one_by_one = [
        session.run(names, {k: v[i : i + 1] for k, v in feeds.items()}) for i in range(50)
    ]
    whole = session.run(names, feeds)
    return tuple(
        np.concatenate([part[j] for part in one_by_one] + [whole[j]]) for j in range(len(names))
    ) + (rows,)


def test_the_session_without_rewrites_answers_bit_for_bit_as_with_them(model_path):
    data = model_path.read_bytes()
    model = Model.from_bytes(data)
    feeds = from_frame(make_frame(n=3000, seed=11), model.schema)
    plain = _scores(data, ort.GraphOptimizationLevel.ORT_DISABLE_ALL, feeds)
    rewritten = _scores(data, ort.GraphOptimizationLevel.ORT_ENABLE_ALL, feeds)
    for a, b in zip(plain[:-1], rewritten[:-1], strict=True):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    probability, _ = model.predict(feeds)  # serving's own session: the same bits
    assert probability.tobytes() == rewritten[0][-len(probability) :].tobytes()


def test_a_small_network_too():
    """MatMul + Add + Relu + Sigmoid, the ops a Keras export has, which the rewrites fuse."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = {
        "w1": rng.normal(size=(12, 32)).astype(np.float32),
        "b1": rng.normal(size=32).astype(np.float32),
        "w2": rng.normal(size=(32, 1)).astype(np.float32),
        "b2": rng.normal(size=1).astype(np.float32),
    }
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"]),
        helper.make_node("Add", ["h", "b1"], ["hb"]),
        helper.make_node("Relu", ["hb"], ["r"]),
        helper.make_node("MatMul", ["r", "w2"], ["o"]),
        helper.make_node("Add", ["o", "b2"], ["ob"]),
        helper.make_node("Sigmoid", ["ob"], ["p"]),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 12])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, [None, 1])],
        [numpy_helper.from_array(v, k) for k, v in weights.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    data = model.SerializeToString()
    assert onnx.checker.check_model(model) is None
    feeds = {"x": rng.normal(size=(2000, 12)).astype(np.float32)}
    plain = _scores(data, ort.GraphOptimizationLevel.ORT_DISABLE_ALL, feeds)
    rewritten = _scores(data, ort.GraphOptimizationLevel.ORT_ENABLE_ALL, feeds)
    assert plain[0].tobytes() == rewritten[0].tobytes()


def test_log_lines_keep_powertools_shape_and_context():
    out = io.StringIO()
    log = Logger(service="svc", stream=out)
    log.append_keys(model_version="v1")
    context = SimpleNamespace(
        aws_request_id="req-1",
        function_name="fn",
        memory_limit_in_mb=512,
        invoked_function_arn="arn",
    )

    def route(event, ctx):
        log.thread_safe_append_keys(correlation_id=event["id"])
        log.info("scored", extra={"rows": 3})
        try:
            raise ValueError("bad")
        except ValueError:
            log.exception("failed", extra={"key": "k"})

    handler = log.inject_lambda_context(route)
    Logger._cold_start = True
    handler({"id": "c-1"}, context)
    log.thread_safe_clear_keys()
    handler({"id": "c-2"}, context)
    log.info("outside an invocation")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert out.getvalue().startswith('{"level":"INFO","location":"route:')
    first, error, second = lines[0], lines[1], lines[2]
    assert first["cold_start"] is True and second["cold_start"] is False
    assert first["function_request_id"] == "req-1" and first["function_memory_size"] == 512
    assert first["rows"] == 3 and first["model_version"] == "v1" and first["service"] == "svc"
    assert first["correlation_id"] == "c-1" and second["correlation_id"] == "c-2"
    assert error["level"] == "ERROR" and error["exception_name"] == "ValueError"
    assert "bad" in error["exception"] and error["key"] == "k"
    assert "function_request_id" not in lines[-1] and lines[-1]["model_version"] == "v1"


def test_the_log_level_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "warning")
    out = io.StringIO()
    log = Logger(service="svc-level", stream=out)
    log.info("hidden")
    log.warning("shown")
    assert [json.loads(line)["message"] for line in out.getvalue().splitlines()] == ["shown"]
