"""Output keys: one scheme for every output, within S3's 1,024 bytes."""

import pytest

from lambda_fn.batch import keys
from lambda_fn.config import Config


@pytest.mark.parametrize(("fill", "ext"), [("é", ".csv"), ("x", ".CSV.GZ")])
def test_output_keys_never_exceed_1024_bytes(fill, ext):
    config = Config()
    room = 1024 - len(f"incoming/{ext}".encode())
    key = "incoming/" + fill * (room // len(fill.encode())) + ext  # at S3's limit
    out = keys.output_keys(key, config)
    assert all(len(k.encode()) <= 1024 for k in out.values())
    assert out["scored"].endswith(ext) and out["summary"].endswith(ext + ".json")
    other = keys.output_keys(key[:-8] + "zz" + key[-6:], config)
    assert other["scored"] != out["scored"]  # the hash tells long names apart
