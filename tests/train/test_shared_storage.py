"""One search in two processes on a shared Optuna journal file: both add
trials to the same study, and two --finalize steps pick the same trial."""

import json
import subprocess
import sys

from tests.conftest import ROOT, make_frame, run_train_cli


def _worker(data, storage):
    args = ["--data", data, "--target", "y", "--drop", "customer_id", "--models"]
    args += ["logreg,xgboost", "--samplers", "none", "--folds", "3", "--trials", "3"]
    args += ["--storage", storage, "--study", "shared", "--no-progress"]
    return subprocess.Popen(
        [sys.executable, "-m", "train", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_share_one_study_and_agree_on_the_winner(tmp_path):
    import optuna

    data = tmp_path / "customers.csv"
    make_frame(800, seed=5).to_csv(data, index=False)
    journal = tmp_path / "study.log"
    workers = [_worker(str(data), str(journal)) for _ in range(2)]
    outputs = [w.communicate(timeout=600) for w in workers]
    for w, (out, err) in zip(workers, outputs, strict=True):
        assert w.returncode == 0, err
        assert "study shared:" in out

    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(journal))
    )
    study = optuna.load_study(study_name="shared", storage=storage)
    ran = [t for t in study.trials if "worker" in t.user_attrs]
    assert len(ran) >= 6  # three each, none lost
    assert len({t.user_attrs["worker"] for t in ran}) == 2
    assert all(t.user_attrs["rows"] > 0 for t in ran)

    picked = []
    for name in ("a", "b"):
        done = run_train_cli(
            "--data", data, "--target", "y", "--drop", "customer_id", "--models",
            "logreg,xgboost", "--samplers", "none", "--folds", "3", "--no-report",
            "--storage", f"journal://{journal}", "--study", "shared", "--finalize",
            "--out", tmp_path / name,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        run = json.loads((tmp_path / name / "run.json").read_text())
        picked.append(run["study"]["trial"])
    assert picked[0] == picked[1] == study.best_trial.number
    assert len(optuna.load_study(study_name="shared", storage=storage).trials) == len(study.trials)
