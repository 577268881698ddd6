"""Every learner the training side offers exports to one ONNX graph that
matches the Python pipeline (parity bar: |dp| <= 1e-5, 100 % labels)."""

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from export.cli import run as export_run
from export.parity import MAX_ABS_DIFF, feeds
from lambda_fn.schema import Schema
from train.cli import run as train_run
from train.models import LEARNERS

CASES = (
    [(name, "none") for name in LEARNERS]
    + [(name, "smote") for name in LEARNERS]
    + [("logreg", "undersample"), ("xgboost", "class_weight")]
)  # the last two are calibrated


def train_and_export(csv_path, tmp_path, learner, strategy, *extra):
    run = tmp_path / "run"
    code = train_run(
        [
            "--data",
            str(csv_path),
            "--target",
            "y",
            "--models",
            learner,
            "--samplers",
            strategy,
            "--folds",
            "2",
            "--out",
            str(run),
            "--no-progress",
            "--no-report",
            *extra,
        ]
    )
    assert code == 0
    assert export_run(["--run", str(run)]) == 0
    return run


@pytest.mark.parametrize(("learner", "strategy"), CASES)
def test_export_meets_the_parity_bar(csv_path, tmp_path, learner, strategy):
    run = train_and_export(csv_path, tmp_path, learner, strategy)
    parity = json.loads((run / "parity.json").read_text())
    assert parity["passed"] and parity["max_abs_diff"] <= MAX_ABS_DIFF
    assert parity["label_agreement"] == 1.0
    assert parity["sets"]["edge_rows"]["rows"] > 0 and parity["sets"]["test_split"]["rows"] > 0


def test_graph_honours_the_contract(csv_path, tmp_path):
    run = train_and_export(
        csv_path, tmp_path, "xgboost", "class_weight", "--sum", "age_calls=age+calls"
    )
    proto = onnx.load(run / "model.onnx")
    meta = {p.key: p.value for p in proto.metadata_props}
    schema = Schema.from_json(meta["schema"])
    inputs = {i.name: i.type.tensor_type.elem_type for i in proto.graph.input}
    assert list(inputs) == schema.names  # derived features are computed inside the graph
    for f in schema.features:
        expected = onnx.TensorProto.FLOAT if f.kind == "numeric" else onnx.TensorProto.STRING
        assert inputs[f.name] == expected
    assert [o.name for o in proto.graph.output] == ["probability", "label"]
    assert not any(n.op_type == "ZipMap" for n in proto.graph.node)
    for key in (
        "negative_label",
        "positive_label",
        "threshold",
        "learner",
        "strategy",
        "test_metrics",
        "training_data_sha256",
        "package_versions",
        "model_version",
        "created",
        "calibration",
    ):
        assert key in meta, key
    assert (meta["negative_label"], meta["positive_label"]) == ("no", "yes")
    assert json.loads(meta["calibration"])["method"] == "platt"
    session = ort.InferenceSession(str(run / "model.onnx"))
    import joblib

    holdout = joblib.load(run / "holdout.joblib")
    p, label = session.run(None, feeds(holdout["X"], schema))
    assert p.dtype == np.float32 and label.dtype == np.int64 and p.shape == label.shape
    assert np.array_equal(label, (p >= float(meta["threshold"])).astype(np.int64))


def test_exporting_twice_gives_the_same_model_version(csv_path, tmp_path):
    run = train_and_export(csv_path, tmp_path, "logreg", "none")
    first = {p.key: p.value for p in onnx.load(run / "model.onnx").metadata_props}
    assert export_run(["--run", str(run)]) == 0
    second = {p.key: p.value for p in onnx.load(run / "model.onnx").metadata_props}
    assert first["model_version"] == second["model_version"]


def test_missing_run_folder_is_exit_2(tmp_path, capsys):
    from export.cli import main

    assert main(["--run", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "run folder not found" in err[0]


def test_incompatible_run_format_is_exit_2(csv_path, tmp_path, capsys):
    from export.cli import main

    run = train_and_export(csv_path, tmp_path, "logreg", "none")
    info = json.loads((run / "run.json").read_text())
    info["run_format"] = 999
    (run / "run.json").write_text(json.dumps(info))
    (run / "model.onnx").unlink()
    assert main(["--run", str(run)]) == 2
    assert "incompatible version" in capsys.readouterr().err
    assert not (run / "model.onnx").exists()


def test_learner_without_converter_is_exit_2(csv_path, tmp_path, capsys):
    import joblib
    from sklearn.semi_supervised import LabelSpreading

    from export.cli import main

    run = train_and_export(csv_path, tmp_path, "logreg", "none")
    model = joblib.load(run / "model.joblib")
    prep = model.pipeline.named_steps["prep"]
    X = joblib.load(run / "holdout.joblib")["X"]
    model.pipeline.steps[-1] = (
        "model",
        LabelSpreading().fit(prep.transform(X), np.arange(len(X)) % 2),
    )
    joblib.dump(model, run / "model.joblib")
    assert main(["--run", str(run)]) == 2
    assert "no ONNX converter for LabelSpreading" in capsys.readouterr().err
