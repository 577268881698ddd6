"""The serving package runs with lambda_fn/requirements.txt and nothing else."""

import json
import subprocess
import venv

import pytest

from tests.conftest import ROOT

SCRIPT = """
import json, sys
from lambda_fn import app
event = json.load(open(sys.argv[1]))
response = app.handler(event, None)
heavy = sorted(m for m in ("pandas", "sklearn", "tensorflow", "xgboost", "lightgbm", "imblearn",
                           "skl2onnx", "onnx", "keras") if m in sys.modules)
print(json.dumps({"status": response["statusCode"], "body": json.loads(response["body"]),
                  "heavy": heavy}))
"""


@pytest.mark.network
@pytest.mark.slow
def test_handler_scores_a_request_in_a_clean_serving_venv(tmp_path, model_path):
    env_dir = tmp_path / "serving-venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(ROOT / "lambda_fn" / "requirements.txt"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    freeze = subprocess.run([str(python), "-m", "pip", "freeze"], capture_output=True, text=True)
    installed = {line.split("==")[0].lower() for line in freeze.stdout.splitlines()}
    assert not installed & {"pandas", "scikit-learn", "tensorflow", "tensorflow-cpu", "xgboost"}
    from tests.lambda_fn.conftest import RECORD, http_event

    event = tmp_path / "event.json"
    event.write_text(json.dumps(http_event("POST", "/predict", {"records": [RECORD]})))
    script = tmp_path / "score.py"
    script.write_text(SCRIPT)
    run = subprocess.run(
        [str(python), str(script), str(event)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={
            "MODEL_PATH": str(model_path),
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "AWS_DEFAULT_REGION": "us-east-1",
        },
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    answer = json.loads(run.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200 and len(answer["body"]["predictions"]) == 1
    assert answer["heavy"] == []
