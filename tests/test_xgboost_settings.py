"""The XGBoost settings comparison keeps working (tiny data, two folds)."""

from scripts import xgboost_settings
from tests.conftest import make_frame


def test_every_setting_is_scored_and_costed(tmp_path):
    data = tmp_path / "data.csv"
    make_frame(n=400, seed=2).to_csv(data, index=False)
    rows = xgboost_settings.run(str(data), "y", "yes", folds=2, seed=42)
    assert [r["setting"] for r in rows] == list(xgboost_settings.SETTINGS)
    default = rows[-1]
    assert default["trees"] == 1000 and "(default)" in default["setting"]
    for r in rows:
        assert 0 < r["pr_auc_mean"] <= 1 and 0 < r["roc_auc_mean"] <= 1
        assert 0 < r["node_visits"] <= r["trees"] * 6  # no tree is deeper than 6
    text = xgboost_settings.markdown(rows, "cmd", 2)
    assert "best PR AUC" in text and "within one standard error" in text.lower()
