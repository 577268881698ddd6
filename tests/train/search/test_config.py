"""SearchConfig refuses what the CLI refuses, with the same one-line messages."""

import pytest

from train.data import UsageError
from train.search import SearchConfig


@pytest.mark.parametrize(
    "change, message",
    [
        ({"learners": ["logreg", "knn"]}, "unknown model 'knn'; choose from logreg,"),
        ({"strategies": ["smoote"]}, "unknown sampler 'smoote'; choose from none,"),
        ({"learners": []}, "no model to search"),
        ({"metric": "auc"}, "unknown --metric 'auc'"),
        ({"calibration": "maybe"}, "unknown --calibration 'maybe'"),
        ({"trials": 0}, "--trials must be at least 1"),
        ({"budget": float("inf")}, "--budget must be a positive number of seconds"),
        ({"jobs": 0}, "--jobs must be a positive number of threads, or -1"),
        ({"max_us_per_row": -1.0}, "--max-us-per-row must be a positive number"),
        ({"workers": 0}, "--workers must be a positive number of threads"),
        ({"folds": 1}, "--folds must be at least 2"),
        ({"test_size": 0.9}, "--test-size must be between 0.05 and 0.5"),
    ],
)
def test_a_bad_setting_is_refused_when_the_config_is_built(change, message):
    settings = {"learners": ["logreg"], "strategies": ["none"], **change}
    with pytest.raises(UsageError) as info:
        SearchConfig(**settings)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_good_config_builds_and_replace_checks_again():
    from dataclasses import replace

    cfg = SearchConfig(["logreg", "xgboost"], ["none", "smote"], trials=3, jobs=-1)
    assert cfg.metric == "pr_auc" and cfg.workers == 1
    with pytest.raises(UsageError, match="--folds must be at least 2"):
        replace(cfg, folds=1)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--trials", "0"], "error: --trials must be at least 1"),
        (["--models", "logreg,knn"], "error: unknown model 'knn'"),
        (["--workers", "0"], "error: --workers must be a positive number of threads"),
    ],
)
def test_the_cli_gives_the_configs_message_on_one_line(csv_path, tmp_path, capsys, flags, message):
    from train.cli import main

    code = main(["--data", str(csv_path), "--target", "y", "--out", str(tmp_path / "r"), *flags])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == err.strip().splitlines()[0]
    assert err.startswith(message)
    assert not (tmp_path / "r").exists()
