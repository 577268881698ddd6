"""The serving image installs on its base and is readable by Lambda's user.

No Docker here: the checks read the Dockerfile itself, so that the base it
names, the wheels pip may take for it and the modes it sets cannot drift from
what the tests believe.
"""

import json
import os
import re
import stat
import subprocess
import sys

import pytest

from scripts import image_wheels, invoke_rie
from tests.conftest import ROOT
from tests.test_infra import _template

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_the_base_is_a_dated_lambda_python_image_on_amazon_linux_2023():
    base = image_wheels.read_base(DOCKERFILE)
    assert re.fullmatch(
        r"public\.ecr\.aws/lambda/python:3\.1[2-9]\.\d{4}\.\d\d\.\d\d\.\d\d-x86_64", base.image
    )
    assert base.glibc == (2, 34) and base.default_arch == "x86_64"
    assert base.image_for("arm64").endswith("-arm64")


def test_the_image_installs_only_the_serving_requirements():
    installs = re.findall(r"pip install[^\n]*(?:\\\n[^\n]*)*", DOCKERFILE)
    assert len(installs) == 1 and "-r /tmp/requirements.txt" in installs[0]
    assert "--only-binary=:all:" in installs[0]
    assert "lambda_fn/requirements.txt /tmp/requirements.txt" in DOCKERFILE
    assert 'CMD ["lambda_fn.app.handler"]' in DOCKERFILE


def test_glibc_follows_the_python_version_of_the_base():
    al2 = image_wheels.read_base("FROM public.ecr.aws/lambda/python:3.11.2026.02.28.00\n")
    assert al2.python == "3.11" and al2.glibc == (2, 26)
    with pytest.raises(image_wheels.DockerfileError, match="not a Lambda Python base"):
        image_wheels.read_base("FROM python:3.12-slim\n")


def test_every_manylinux_tag_up_to_the_base_glibc_is_offered_to_pip():
    tags = image_wheels.platforms("arm64", (2, 34))
    assert tags[0] == "manylinux_2_17_aarch64" and "manylinux_2_34_aarch64" in tags
    assert "manylinux_2_35_aarch64" not in tags and "manylinux2014_aarch64" in tags


@pytest.mark.network
@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_every_serving_pin_has_a_wheel_for_the_image(arch):
    base = image_wheels.read_base(DOCKERFILE)
    problem = image_wheels.check(base.python, arch, base.glibc, image_wheels.REQUIREMENTS)
    assert problem is None, problem


def test_the_check_names_the_package_when_the_base_is_too_old():
    # Lambda's 3.11 base is Amazon Linux 2: numpy 2.4 ships no wheel for glibc 2.26.
    problem = image_wheels.check("3.11", "x86_64", (2, 26), image_wheels.REQUIREMENTS)
    assert problem is not None and "no wheel for numpy==" in problem
    assert "glibc 2.26" in problem


def test_the_check_names_a_pin_that_has_no_wheel(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("PyYAML==5.4.1\n")  # released before Python 3.12: sdist only there
    problem = image_wheels.check("3.12", "x86_64", (2, 34), requirements)
    assert problem is not None and "PyYAML==5.4.1" in problem


def test_the_check_fails_from_the_command_line(tmp_path, capsys):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "ARG ARCH=x86_64\nFROM public.ecr.aws/lambda/python:3.11.2026.02.28.00-${ARCH}\n"
    )
    assert image_wheels.main(["--dockerfile", str(dockerfile), "--arch", "x86_64"]) == 1
    assert "no wheel for numpy" in capsys.readouterr().err


def test_everything_the_image_copies_gets_an_explicit_world_readable_mode():
    copies = re.findall(r"^COPY\b.*$", DOCKERFILE, flags=re.MULTILINE)
    assert copies
    for line in copies:
        mode = re.search(r"--chmod=(\d+)", line)
        assert mode, f"COPY without --chmod keeps the builder's file modes: {line}"
        assert int(mode[1], 8) & 0o444 == 0o444, f"not world-readable: {line}"


def test_the_task_root_the_image_lays_out_is_readable_by_any_user(tmp_path, model_path):
    model_path.chmod(0o600)  # as an older export wrote it
    try:
        invoke_rie.lay_out_task_root(tmp_path, model_path)
    finally:
        model_path.chmod(0o644)
    files = list(tmp_path.rglob("*"))
    assert tmp_path / "lambda_fn" / "model.onnx" in files
    assert tmp_path / "lambda_fn" / "app.py" in files
    assert tmp_path / "contract" / "schema.py" in files
    for path in files:
        mode = stat.S_IMODE(path.stat().st_mode)
        needed = 0o005 if path.is_dir() else 0o004
        assert mode & needed == needed, f"{path.relative_to(tmp_path)} is {oct(mode)}"


def test_the_image_ships_the_handlers_bytecode_compiled_after_copying_it(tmp_path, model_path):
    """Lambda's read-only file system cannot cache bytecode: without it, every
    cold start compiles the handler again."""
    copy = DOCKERFILE.index("${LAMBDA_TASK_ROOT}/lambda_fn/")
    compile_step = DOCKERFILE.index("compileall")
    assert copy < compile_step
    assert invoke_rie.compiled_folders(invoke_rie.ROOT / "Dockerfile") == ["contract", "lambda_fn"]
    invoke_rie.lay_out_task_root(tmp_path, model_path)
    for package in ("contract", "lambda_fn"):
        sources = {p.stem for p in (tmp_path / package).rglob("*.py")}
        compiled = {p.name.split(".")[0] for p in (tmp_path / package).rglob("*.pyc")}
        assert sources and sources <= compiled, package


def test_the_image_keeps_numpys_blas_to_one_thread_and_the_emulator_runs_with_it():
    """OpenBLAS's thread pool slows cold starts on a busy CPU; serving does no linear algebra."""
    assert invoke_rie.image_environment()["OPENBLAS_NUM_THREADS"] == "1"


def test_the_architecture_is_a_template_parameter_passed_to_the_image_build():
    template = _template()
    parameter = template["Parameters"]["Architecture"]
    assert parameter["Default"] == "x86_64"
    assert set(parameter["AllowedValues"]) == {"x86_64", "arm64"}
    assert template["Globals"]["Function"]["Architectures"] == ["Architecture"]
    for name in ("ApiFunction", "BatchFunction"):
        metadata = template["Resources"][name]["Metadata"]
        assert metadata["DockerBuildArgs"] == {"ARCH": "Architecture"}
    assert re.search(r"^ARG ARCH=x86_64$", DOCKERFILE, flags=re.MULTILINE)
    assert "${ARCH}" in re.search(r"^FROM .*$", DOCKERFILE, flags=re.MULTILINE)[0]


def _image_python(version: str):
    """An interpreter of the image's Python version on this machine, if there is one."""
    import glob
    import shutil

    pattern = os.path.expanduser(f"~/.pyenv/versions/{version}*/bin/python{version}")
    candidates = [*sorted(glob.glob(pattern)), shutil.which(f"python{version}")]
    for python in filter(None, candidates):
        probe = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return python
    return None


@pytest.mark.network
def test_the_serving_code_runs_on_the_image_python(tmp_path, model_path):
    """The image runs Python 3.12, the tests 3.11: score a request on both."""
    base = image_wheels.read_base(DOCKERFILE)
    python = _image_python(base.python)
    if python is None:
        pytest.skip(f"no Python {base.python} on this machine")
    target = tmp_path / "task"
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    command += ["--only-binary=:all:", "--python-version", base.python, "--implementation", "cp"]
    for tag in image_wheels.platforms(
        "x86_64" if os.uname().machine == "x86_64" else "arm64", base.glibc
    ):
        command += ["--platform", tag]
    command += ["--target", str(target), "-r", str(image_wheels.REQUIREMENTS)]
    install = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-2000:]
    script = (
        "import json, sys\n"
        "from lambda_fn import app, events\n"
        "answer = app.handler(json.loads(sys.argv[1]), None)\n"
        "try:\n"
        "    app.handler({'source': 'aws.events'}, None)\n"
        "except events.UnsupportedEvent:\n"
        "    rejected = True\n"
        "print(json.dumps({'version': sys.version_info[:2], 'status': answer['statusCode'],\n"
        "                  'body': json.loads(answer['body']), 'rejected': rejected}))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{target}:{ROOT}",
        "MODEL_PATH": str(model_path),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    from tests.lambda_fn.conftest import RECORD, http_event

    event = http_event("POST", "/predict", {"records": [RECORD, {**RECORD, "age": 70}]})
    answers = {}
    for name, interpreter, path in (
        ("image", python, f"{target}:{ROOT}"),
        ("host", sys.executable, str(ROOT)),
    ):
        run = subprocess.run(
            [interpreter, "-c", script, json.dumps(event)],
            capture_output=True,
            text=True,
            env={**env, "PYTHONPATH": path},
            cwd=tmp_path,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        answers[name] = json.loads(run.stdout.strip().splitlines()[-1])
    image, host = answers["image"], answers["host"]
    assert image["version"] == [int(part) for part in base.python.split(".")]
    assert image["status"] == 200 and image["rejected"]
    assert image["body"]["predictions"] == host["body"]["predictions"]


# scripts/python_wheels.py: every pin in requirements/ on each supported Python.


def test_the_supported_pythons_are_pyprojects():
    import tomllib

    from scripts import python_wheels

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11,<3.14"
    assert python_wheels.PYTHONS == ("3.11", "3.12", "3.13")
    listed = [c.rsplit(" ", 1)[1] for c in project["classifiers"] if "Python :: 3." in c]
    assert listed == list(python_wheels.PYTHONS)


def test_the_python_check_follows_includes():
    from scripts import python_wheels

    names = [p.name for p in python_wheels.files([ROOT / "requirements" / "dev.txt"])]
    assert names == ["dev.txt", "train.txt", "requirements.txt"]  # lambda_fn's, via train.txt


def test_the_python_check_fails_on_a_pin_without_a_wheel_for_one_version(tmp_path, capsys):
    from scripts import python_wheels

    requirements = tmp_path / "requirements.txt"
    # numpy 1.26 predates Python 3.13: wheels up to cp312, an sdist only on 3.13.
    requirements.write_text("# a comment\nnumpy==1.26.4  # pinned\n")
    assert python_wheels.check("3.13", requirements) == ["numpy==1.26.4"]
    assert python_wheels.main(["--requirements", str(requirements)]) == 1
    err = capsys.readouterr().err
    assert "no wheel for Python 3.13" in err and "numpy==1.26.4" in err
    assert "3.11" not in err and "3.12" not in err
