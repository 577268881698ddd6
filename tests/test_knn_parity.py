"""The k-NN parity script (docs/export.md cites it) keeps running (tiny data)."""

from scripts import knn_parity
from tests.conftest import make_frame


def test_both_weightings_are_checked_on_test_and_edge_rows(tmp_path):
    data = tmp_path / "data.csv"
    make_frame(n=400, seed=3).to_csv(data, index=False)
    report = knn_parity.knn_report(str(data), "y", "yes")
    assert set(report) == {"uniform", "distance"}
    for entry in report.values():
        assert entry["test_split"]["rows"] == 80 and entry["edge_rows"]["rows"] > 0
        assert entry["passed"] == (
            max(entry["test_split"]["max_abs_diff"], entry["edge_rows"]["max_abs_diff"]) <= 1e-5
            and min(entry["test_split"]["label_agreement"], entry["edge_rows"]["label_agreement"])
            == 1.0
        )
    assert 0 <= report["distance"]["test_split_vs_uniform_weights"] <= 1
