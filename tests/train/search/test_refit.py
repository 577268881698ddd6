"""The winner is refit on the whole train part, calibrated when it resamples
or reweights, and scored once on the test part."""

import numpy as np

from train.search import run_search
from train.search.refit import calibrate


def test_resampled_winner_is_calibrated_by_default(dataset, config):
    result = run_search(dataset, config(["logreg"], ["undersample"], trials=1))
    report = result.calibration_report
    assert report["applied"] and result.model.calibration is not None
    assert report["oof_brier_after"] < report["oof_brier_before"]
    assert {"test_brier", "test_brier_uncalibrated"} <= set(report)


def test_calibration_follows_the_setting_and_the_winners_strategy(candidate, config):
    rng = np.random.default_rng(3)
    y = (rng.random(400) < 0.2).astype(int)
    plain = candidate("logreg", [0.5], oof=np.clip(0.3 * y + rng.random(400) * 0.7, 0, 1))
    plain.threshold = 0.5
    calibration, threshold, report = calibrate(plain, y, config(["logreg"], ["none"]))
    assert calibration is None and threshold == 0.5 and not report["applied"]
    calibration, threshold, report = calibrate(
        plain, y, config(["logreg"], ["none"], calibration="on")
    )
    assert calibration is not None and report["reason"] == "--calibration on"
    plain.strategy = "smote"
    _, _, report = calibrate(plain, y, config(["logreg"], ["smote"]))
    assert report["applied"] and "smote" in report["reason"]


def test_winner_has_the_best_cv_metric_and_a_usable_model(dataset, config):
    result = run_search(
        dataset,
        config(["logreg", "tree"], ["none", "class_weight"], trials=6, ensemble=False),
    )
    best = max(c.mean("pr_auc") for c in result.trials if c.state == "complete")
    assert result.winner.mean("pr_auc") == best
    p = result.model.predict_proba(result.X_test)
    assert p.shape == (len(result.y_test),) and np.all((p >= 0) & (p <= 1))
    assert set(np.unique(result.model.predict(result.X_test))) <= {0, 1}
    assert result.test_metrics["pr_auc"] > 0 and len(result.test_metrics["per_class"]) == 2
