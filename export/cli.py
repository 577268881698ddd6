"""`python -m export --run artifacts/ --out artifacts/model.onnx`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import warnings
from datetime import UTC, datetime
from pathlib import Path


class ExportError(Exception):
    """Bad input (missing or incompatible run folder): one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ExportError(message)


EXPORT_PACKAGES = ["onnx", "skl2onnx", "onnxmltools", "tf2onnx", "onnxruntime"]


def load_run(run: Path):
    import joblib

    from train.artifacts import HOLDOUT_FILE, MODEL_FILE, RUN_FILE, RUN_FORMAT

    if not run.is_dir():
        raise ExportError(f"run folder not found: {run} (run `python -m train` first)")
    run_file = run / RUN_FILE
    if not run_file.exists():
        raise ExportError(f"{run} is not a run folder: {RUN_FILE} is missing")
    try:
        info = json.loads(run_file.read_text())
    except json.JSONDecodeError as exc:
        raise ExportError(f"{run_file} is not valid JSON: {exc.msg}") from exc
    found = info.get("run_format") if isinstance(info, dict) else None
    if found != RUN_FORMAT:
        raise ExportError(
            f"{run} was written by an incompatible version (run_format {found!r}, this export "
            f"reads {RUN_FORMAT}); retrain with `python -m train`"
        )
    for name in (MODEL_FILE, HOLDOUT_FILE):
        if not (run / name).exists():
            raise ExportError(f"{run} is incomplete: {name} is missing")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = joblib.load(run / MODEL_FILE)
            holdout = joblib.load(run / HOLDOUT_FILE)
    except Exception as exc:
        raise ExportError(
            f"cannot load {run / MODEL_FILE} ({type(exc).__name__}); it was probably written by "
            "another version of the training packages: retrain"
        ) from exc
    metrics = json.loads((run / "metrics.json").read_text())
    return info, model, holdout, metrics


def export(run: Path, out: Path) -> dict:
    import onnx

    from export import contributions, parity
    from export import graph as G
    from train.artifacts import package_versions
    from train.metrics import IN_MODEL

    info, model, holdout, metrics = load_run(run)
    try:
        proto = G.build_graph(model)
    except G.UnsupportedModel as exc:
        raise ExportError(str(exc)) from exc
    explanation = contributions.metadata_for(proto, model)
    version = G.content_hash(proto)
    test_metrics = {k: metrics[k] for k in IN_MODEL if k in metrics}
    G.set_metadata(
        proto,
        {
            "schema": model.schema.to_dict(),
            "negative_label": model.schema.negative_label,
            "positive_label": model.schema.positive_label,
            "threshold": repr(float(model.threshold)),
            "threshold_objective": metrics.get("threshold_objective", "f1"),
            "learner": model.learner,
            "strategy": model.strategy,
            "calibration": (
                {
                    "method": "platt",
                    "slope": model.calibration.slope,
                    "intercept": model.calibration.intercept,
                }
                if model.calibration is not None
                else {"method": "none"}
            ),
            **derived_metadata(model),
            **explanation,
            "test_metrics": test_metrics,
            "training_data_sha256": info["data"]["sha256"],
            "training_data_source": info["data"]["source"],
            "trained_at": info["created"],
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "package_versions": {**info.get("packages", {}), **package_versions(EXPORT_PACKAGES)},
            "opset": str(G.OPSET),
            "model_version": version,
        },
    )
    proto.model_version = int(version[:12], 16)
    proto.producer_name = "imbalanced-onnx-lambda"
    data = proto.SerializeToString()
    report = parity.check(data, model, holdout["X"])
    report["model_version"] = version
    out.parent.mkdir(parents=True, exist_ok=True)
    parity_path = out.with_name("parity.json")
    _write_readable(parity_path, (json.dumps(report, indent=2, default=str) + "\n").encode())
    if not report["passed"]:
        if out.exists():
            out.unlink()  # never leave a model that failed its own check
        return {"passed": False, "report": report, "parity_path": parity_path}
    _write_readable(out, data)
    openapi_path = write_openapi(data, out.with_name("openapi.json"))
    return {
        "passed": True,
        "openapi_path": openapi_path,
        "report": report,
        "parity_path": parity_path,
        "size": len(data),
        "inputs": [
            (i.name, _type_text(i))
            for i in onnx.load_from_string(data).graph.input
            if i.name != contributions.EXPLAIN_INPUT
        ],
        "outputs": [(o.name, _type_text(o)) for o in proto.graph.output],
        "version": version,
        "model": model,
    }


def _pipelines(model) -> list:
    if model.members:
        return [m.pipeline for m in model.members]
    return [model.pipeline]


def derived_metadata(model) -> dict:
    """Derived features the graph computes from the raw inputs (sums keep the
    format older readers know: name -> parts), and an ensemble's members."""
    sums, indicators, dates = {}, {}, {}
    for pipeline in _pipelines(model):
        derive = dict(pipeline.steps).get("derive")
        if derive is None:
            continue
        sums.update({n: list(p) for n, p in derive.sums})
        indicators.update({n: {"column": c, "is": "missing"} for n, c in derive.missing})
        indicators.update({n: {"column": c, "equals": v} for n, c, v in derive.sentinels})
        dates.update({n: {"month": m, "day": d} for n, m, d, _ in derive.dates})
    doc = {"derived_features": sums, "derived_indicators": indicators}
    if dates:
        doc["derived_dates"] = dates
    if model.members:
        doc["ensemble"] = [
            {"name": m.name, "learner": m.learner, "strategy": m.strategy, "weight": m.weight}
            for m in model.members
        ]
    return doc


def _write_readable(path: Path, data: bytes) -> None:
    """Write via a temp file and rename, leaving the file world-readable (0644):
    mkstemp creates 0600 files, and the image build or a serving user may not
    be the user who exported."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_openapi(data: bytes, path: Path) -> Path:
    """The API's OpenAPI document for this model, from the graph's metadata, with the
    function's default limits (GET /openapi.json answers with the deployed ones)."""
    import onnx

    from contract import openapi
    from contract.schema import Schema

    meta = {p.key: p.value for p in onnx.load_from_string(data).metadata_props}
    text = openapi.to_json(openapi.build(Schema.from_json(meta["schema"]), meta))
    _write_readable(path, text.encode("utf-8"))
    return path


def _type_text(value_info) -> str:
    from onnx import TensorProto

    t = value_info.type.tensor_type
    dims = [d.dim_param or (str(d.dim_value) if d.dim_value else "N") for d in t.shape.dim]
    return f"{TensorProto.DataType.Name(t.elem_type).lower()}[{', '.join(dims)}]"


def run(argv: list[str]) -> int:
    p = _Parser(prog="python -m export", description="Export a training run as one ONNX graph.")
    p.add_argument("--run", default="artifacts", help="run folder from `python -m train`")
    p.add_argument("--out", help="ONNX file to write (default: RUN/model.onnx)")
    args = p.parse_args(argv)
    run_dir = Path(args.run)
    out = Path(args.out) if args.out else run_dir / "model.onnx"
    if out.exists() and out.is_dir():
        raise ExportError(f"--out {out} is a folder, expected a file path")
    result = export(run_dir, out)
    report = result["report"]
    line = (
        f"parity: {report['rows_checked']} rows, max |p_onnx - p_python| = "
        f"{report['max_abs_diff']:.2e} (bar {report['bar']['max_abs_diff']:.0e}), "
        f"label agreement {report['label_agreement']:.2%}"
    )
    if "contributions" in report:
        worst = max(report["contributions"]["max_scaled_diff"].values())
        line += f", contributions within {worst:.1e}"
    if not result["passed"]:
        print(
            f"error: parity check failed, no model written. {line}; worst row in "
            f"{result['parity_path']}",
            file=sys.stderr,
        )
        return 1
    model = result["model"]
    print(
        f"wrote {out} ({result['size'] / 1024:.0f} KiB, opset {__import__('export.graph').graph.OPSET}, "
        f"model version {result['version']})"
    )
    print(
        f"model: {model.learner} + {model.strategy}, threshold {model.threshold:.4f}, "
        f"labels {model.schema.negative_label!r}/{model.schema.positive_label!r}"
    )
    print("inputs:  " + ", ".join(f"{n}: {t}" for n, t in result["inputs"]))
    print("outputs: " + ", ".join(f"{n}: {t}" for n, t in result["outputs"]))
    print(line + f"; report in {result['parity_path']}")
    print(f"API contract: {result['openapi_path']} (OpenAPI 3.1, also served at GET /openapi.json)")
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
