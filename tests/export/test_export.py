"""Every learner the training side offers exports to one ONNX graph that
matches the Python pipeline (parity bar: |dp| <= 1e-5, 100 % labels)."""

import json

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import pytest

from contract.feeds import from_frame as feeds
from contract.schema import Schema
from export.cli import run as export_run
from export.parity import MAX_ABS_DIFF
from lambda_fn.reasons import CONTRIBUTIONS, EXPLAIN_INPUT
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
            "--trials",
            "1",
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
    assert inputs.pop(EXPLAIN_INPUT) == onnx.TensorProto.BOOL  # False unless set: reasons
    assert list(inputs) == schema.names  # derived features are computed inside the graph
    for f in schema.features:
        expected = onnx.TensorProto.FLOAT if f.kind == "numeric" else onnx.TensorProto.STRING
        assert inputs[f.name] == expected
    assert [o.name for o in proto.graph.output] == ["probability", "label", CONTRIBUTIONS]
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
    p, label = session.run(["probability", "label"], feeds(holdout["X"], schema))
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
    (run / "model.onnx").unlink()
    capsys.readouterr()  # training's own warnings
    info = json.loads((run / "run.json").read_text())
    # 1: runs whose model.joblib pickled train.search.TrainedModel, gone since format 2
    for older in (1, 999):
        info["run_format"] = older
        (run / "run.json").write_text(json.dumps(info))
        assert main(["--run", str(run)]) == 2
        err = capsys.readouterr().err
        assert f"run_format {older}" in err and "retrain" in err and len(err.splitlines()) == 1
        assert not (run / "model.onnx").exists()


def test_learner_without_converter_is_exit_2(csv_path, tmp_path, capsys):
    import joblib
    from sklearn.pipeline import Pipeline
    from sklearn.semi_supervised import LabelSpreading

    from export.cli import main

    run = train_and_export(csv_path, tmp_path, "logreg", "none")
    model = joblib.load(run / "model.joblib")
    features = Pipeline(model.pipeline.steps[:-1])  # derived features and preprocessing
    X = joblib.load(run / "holdout.joblib")["X"]
    model.pipeline.steps[-1] = (
        "model",
        LabelSpreading().fit(features.transform(X), np.arange(len(X)) % 2),
    )
    joblib.dump(model, run / "model.joblib")
    assert main(["--run", str(run)]) == 2
    assert "no ONNX converter for LabelSpreading" in capsys.readouterr().err


def test_written_files_are_world_readable_whatever_the_umask(csv_path, tmp_path):
    """The image build and the serving user may not be the user who exported."""
    import os
    import stat

    run = train_and_export(csv_path, tmp_path, "logreg", "none")
    old = os.umask(0o077)
    try:
        assert export_run(["--run", str(run)]) == 0
    finally:
        os.umask(old)
    for name in ("model.onnx", "openapi.json", "parity.json"):
        mode = stat.S_IMODE((run / name).stat().st_mode)
        assert mode == 0o644, (name, oct(mode))
    assert not [p.name for p in run.iterdir() if p.name.startswith(".")]


def test_derived_indicators_are_computed_inside_the_graph(csv_path, tmp_path):
    """The generated data has missing ages, so the search derives 'age is missing'."""
    run = train_and_export(csv_path, tmp_path, "logreg", "none")
    proto = onnx.load(run / "model.onnx")
    meta = {p.key: p.value for p in proto.metadata_props}
    assert "age is missing" in json.loads(meta["derived_indicators"])
    assert "IsNaN" in {n.op_type for n in proto.graph.node}
    assert "age is missing" not in {i.name for i in proto.graph.input}
    assert json.loads((run / "parity.json").read_text())["passed"]


def test_an_ensemble_is_one_graph_within_the_parity_bar(csv_path, tmp_path):
    """Two different learners and resampling strategies, averaged and calibrated."""
    from export import graph as G
    from export import parity
    from train.data import load_dataset
    from train.evaluate import PlattCalibration
    from train.features import discover
    from train.search import build_pipeline, train_schema
    from train.trained import Member, TrainedModel, WeightedAverage

    data = load_dataset(str(csv_path), "y")
    X, y = data.X.iloc[:450], data.y[:450]
    X_test = data.X.iloc[450:].reset_index(drop=True)
    schema = train_schema(data.schema, X)
    derived = discover(X, y, schema.numeric, schema.names, schema.categorical)
    members = []
    for name, learner, strategy, weight in [
        ("a", "logreg", "none", 0.25),
        ("b", "lightgbm", "smote", 0.5),
        ("c", "xgboost", "class_weight", 0.25),
    ]:
        pipe = build_pipeline(schema, learner, strategy, 0, 7.0, derived=derived)
        pipe.fit(X, y)
        members.append(Member(name, learner, strategy, weight, pipe))
    average = WeightedAverage(members)
    calibration = PlattCalibration.fit(y, average.predict_proba(X)[:, 1])
    model = TrainedModel(average, "ensemble", "none+smote", 0.3, calibration, schema, members)
    proto = G.build_graph(model)
    assert [i.name for i in proto.graph.input] == schema.names
    report = parity.check(proto.SerializeToString(), model, X_test)
    assert report["passed"], report["worst_row"]
    assert report["max_abs_diff"] <= MAX_ABS_DIFF and report["label_agreement"] == 1.0
    from export.cli import derived_metadata

    described = derived_metadata(model)
    assert [m["weight"] for m in described["ensemble"]] == [0.25, 0.5, 0.25]


@pytest.mark.parametrize("learner", ["logreg", "lightgbm", "xgboost", "rf"])
def test_calendar_dates_are_computed_inside_the_graph(learner, tmp_path):
    """Month names and a day of the month: a LabelEncoder and an Add in front
    of the model; unseen and missing months are missing on both sides."""
    from export import graph as G
    from export import parity
    from export.cli import derived_metadata
    from train.data import load_dataset
    from train.features import discover
    from train.search import build_pipeline, train_schema
    from train.trained import TrainedModel

    rng = np.random.default_rng(3)
    n = 800
    months = np.array(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct"])
    frame = pd.DataFrame(
        {
            "month": rng.choice(months, n),
            "day": rng.integers(1, 32, n).astype(float),
            "calls": rng.poisson(2, n).astype(float),
        }
    )
    season = np.isin(frame["month"], ["mar", "sep", "oct"])
    frame["y"] = np.where(season & (rng.random(n) < 0.5) | (rng.random(n) < 0.05), "yes", "no")
    path = tmp_path / "calendar.csv"
    frame.to_csv(path, index=False)
    data = load_dataset(str(path), "y", positive="yes")
    X, y = data.X.iloc[:600].reset_index(drop=True), data.y[:600]
    X_test = data.X.iloc[600:].reset_index(drop=True)
    schema = train_schema(data.schema, X)
    derived = discover(X, y, schema.numeric, schema.names, schema.categorical)
    assert derived.dates, derived.describe()
    pipe = build_pipeline(schema, learner, "none", 0, 7.0, derived=derived).fit(X, y)
    model = TrainedModel(pipe, learner, "none", 0.3, None, schema)
    proto = G.build_graph(model)
    assert [i.name for i in proto.graph.input] == schema.names
    assert {"LabelEncoder", "Add"} <= {node.op_type for node in proto.graph.node}
    report = parity.check(proto.SerializeToString(), model, X_test)
    assert report["passed"], report["worst_row"]
    assert derived_metadata(model)["derived_dates"] == {
        "month day as day of year": {"month": "month", "day": "day"}
    }
