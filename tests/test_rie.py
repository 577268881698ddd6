"""The function as deployed: under the real Lambda runtime, as a non-root user.

scripts/invoke_rie.py (`make invoke-rie`) starts the Runtime Interface
Emulator from the aws-sam-cli wheel in .venv-tools with awslambdaric, in a
task root laid out from the Dockerfile's COPY lines; S3 goes to a moto server
on 127.0.0.1.
"""

import os
import random

import pytest

from scripts import invoke_rie
from tests.conftest import run_train_cli, shared_csv

pytestmark = [pytest.mark.rie, pytest.mark.network, pytest.mark.slow]


@pytest.fixture(scope="module")
def marketing_model(tmp_path_factory):
    """A small real model on the columns the sample events in infra/events/ carry."""
    folder = tmp_path_factory.mktemp("rie-model")
    lines = shared_csv("marketing_data.csv").read_text().splitlines()
    rows = random.Random(7).sample(lines[1:], 4000)  # noqa: S311 - a reproducible sample, not a secret
    data = folder / "marketing-sample.csv"
    data.write_text("\n".join([lines[0], *rows]) + "\n")
    run = folder / "run"
    trained = run_train_cli(
        "--data", data, "--target", "y", "--positive", "yes", "--models", "logreg",
        "--samplers", "none", "--folds", "3", "--no-report", "--out", run,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr[-2000:]
    from export.cli import run as export_run

    assert export_run(["--run", str(run)]) == 0
    return run / "model.onnx", data


@pytest.fixture(scope="module")
def report(marketing_model):
    try:
        invoke_rie.rie_binary()
    except invoke_rie.RieError as exc:
        pytest.skip(str(exc))
    model, data = marketing_model
    return invoke_rie.run(model, data, "y", rows=200)


def test_every_check_passes_under_the_real_runtime(report):
    failed = [(a.name, a.detail) for a in report.answers if not a.ok]
    assert not failed, failed


def test_it_runs_as_a_user_without_privileges_when_the_tests_run_as_root(report):
    if os.geteuid() == 0:
        assert report.user != "root"


def test_every_sample_event_is_answered(report):
    names = {a.name for a in report.answers}
    samples = {p.name for p in invoke_rie.EVENTS.glob("*.json")}
    assert samples <= names
    skipped = [a.name for a in report.answers if a.detail.startswith("skipped")]
    assert not skipped


def test_at_least_ten_kinds_of_other_events_are_rejected_by_name(report):
    rejected = [a for a in report.answers if a.name.startswith("unsupported: ")]
    assert len(rejected) >= 10
    assert all(a.detail.startswith("UnsupportedEvent: ") for a in rejected)


def test_the_runtime_reports_init_and_durations(report):
    assert report.init_ms is not None and report.init_ms > 0
    assert all(a.duration_ms is not None for a in report.answers if a.name.endswith(".json"))


def test_every_log_line_carries_the_invocation_context(report):
    (context,) = [a for a in report.answers if a.name == "log context"]
    assert context.ok, context.detail


def test_init_can_be_timed_import_by_import_as_the_functions_user(marketing_model):
    model, _ = marketing_model
    times = invoke_rie.import_times(model, starts=2, unset=("OPENBLAS_NUM_THREADS",))
    assert list(times) == [name for name, _ in invoke_rie.IMPORT_STEPS]
    assert all(len(ms) == 2 and all(m > 0 for m in ms) for ms in times.values())
    assert invoke_rie.main(["--model", str(model), "--import-times", "1"]) == 0
