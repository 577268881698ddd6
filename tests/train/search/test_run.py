"""run_search end to end: picks by the CV metric in its direction, and a
failing candidate is reported, not fatal."""

from train import samplers
from train.search import run_search


def test_selecting_by_brier_picks_the_smallest(dataset, config):
    result = run_search(
        dataset, config(["logreg", "tree"], ["none"], trials=2, metric="brier", ensemble=False)
    )
    assert result.winner.mean("brier") == min(c.mean("brier") for c in result.candidates)


def test_a_failing_candidate_is_reported_not_fatal(dataset, config, monkeypatch):
    def broken(self, X, y):
        raise RuntimeError("cannot resample")

    monkeypatch.setattr(samplers.CategoricalSMOTE, "fit_resample", broken)
    result = run_search(dataset, config(["logreg"], ["none", "smote"], trials=2))
    failed = [c for c in result.candidates if c.error]
    assert [c.strategy for c in failed] == ["smote"] and "cannot resample" in failed[0].error
    assert result.trials[1].state == "failed"
    assert result.winner.strategy == "none"
