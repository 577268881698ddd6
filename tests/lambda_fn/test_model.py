"""Loading the model: from a file or S3, and clear errors when it cannot be."""

import boto3
import pytest
from moto import mock_aws

from lambda_fn.model import OUTPUTS, Model, ModelLoadError


def test_loads_from_s3(model_path):
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="models")
        s3.put_object(Bucket="models", Key="m/model.onnx", Body=model_path.read_bytes())
        model = Model.load(s3_uri="s3://models/m/model.onnx")
    assert model.version == Model.load(str(model_path)).version
    assert model.labels == ("no", "yes")


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(ModelLoadError, match="cannot read model file .*nope.onnx"):
        Model.load(str(tmp_path / "nope.onnx"))


def test_a_file_that_is_not_onnx_is_refused(tmp_path):
    path = tmp_path / "bad.onnx"
    path.write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="not a loadable ONNX model"):
        Model.load(str(path))


def test_an_onnx_file_without_our_metadata_is_refused(tmp_path, model_path):
    import onnx

    proto = onnx.load(model_path)
    del proto.metadata_props[:]
    path = tmp_path / "bare.onnx"
    onnx.save(proto, path)
    with pytest.raises(ModelLoadError, match="metadata lacks schema, threshold, model_version"):
        Model.load(str(path))


def test_bad_s3_uri_is_named():
    with pytest.raises(ModelLoadError, match="MODEL_S3_URI must look like"):
        Model.load(s3_uri="s3://only-bucket")


def _random_columns(schema, rows, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    columns = {}
    for f in schema.features:
        if f.kind == "numeric":
            values = rng.normal(50, 30, size=(rows, 1)).astype(np.float32)
            values[rng.random((rows, 1)) < 0.05] = np.nan
            columns[f.name] = values
        else:
            choices = [*f.categories, "never seen", ""]
            columns[f.name] = rng.choice(np.array(choices, dtype=object), size=(rows, 1))
    return columns


@pytest.mark.parametrize("threads", [2, 3, 8])
def test_a_large_batch_on_several_vcpus_scores_every_row_as_if_alone(model_path, threads):
    """Bit for bit: the API, a whole file and a file cut into ranges agree."""
    import numpy as np

    model = Model.from_bytes(model_path.read_bytes(), threads=threads)
    columns = _random_columns(model.schema, 1500)
    probability, label = model.predict(columns)
    alone = [
        model.session.run(OUTPUTS, {k: v[i : i + 1] for k, v in columns.items()})
        for i in range(1500)
    ]
    assert probability.shape == (1500,) and label.shape == (1500,)
    assert np.array_equal(probability, np.concatenate([p for p, _ in alone]))
    assert np.array_equal(label, np.concatenate([k for _, k in alone]))
