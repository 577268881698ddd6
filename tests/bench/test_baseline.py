"""The one pandas baseline: how it types a table, and that it scores an ensemble."""

import math

import pandas as pd

from bench import baseline
from contract.schema import CATEGORICAL, NUMERIC, Feature, Schema
from tests.conftest import make_frame


def test_typed_gives_float32_numbers_and_text_categories_with_missing_as_empty():
    features = (Feature("age", NUMERIC), Feature("job", CATEGORICAL))
    schema = Schema(features, target="y", negative_label="no", positive_label="yes")
    frame = baseline.typed(pd.DataFrame({"age": [30, None], "job": ["admin", None]}), schema)
    assert str(frame["age"].dtype) == "float32" and math.isnan(frame["age"][1])
    assert frame["job"].tolist() == ["admin", ""] and frame["job"].dtype == object


def test_typed_parses_each_distinct_parsed_cell_as_the_contract_does_cell_by_cell():
    from contract.feeds import typed_column
    from contract.kinds import BOOLEAN, NUMBER_TEXT

    features = (Feature("autopay", BOOLEAN, format="yes/no"), Feature("spend", NUMBER_TEXT))
    schema = Schema(features, target="y", negative_label="no", positive_label="yes")
    raw = {
        "autopay": ["yes", "NO", None, "yes", ""],
        "spend": ["$1,024.50", None, "3", "$1,024.50", "7%"],
    }
    frame = baseline.typed(pd.DataFrame(raw), schema)
    for f in features:
        expected = typed_column(f, pd.Series(raw[f.name]))
        got = frame[f.name].to_numpy()
        assert [math.isnan(v) for v in got] == [math.isnan(v) for v in expected]
        assert [v for v in got if not math.isnan(v)] == [v for v in expected if not math.isnan(v)]


def test_the_pandas_path_it_compares_against_scores_an_ensemble(tmp_path):
    """The demo's winner may be an ensemble: the baseline sets threads on each member."""
    import joblib

    from train.data import load_dataset
    from train.search.fitting import build_pipeline, train_schema
    from train.trained import Member, TrainedModel, WeightedAverage

    data = tmp_path / "data.csv"
    make_frame(n=300, seed=5).to_csv(data, index=False)
    dataset = load_dataset(str(data), "y")
    schema = train_schema(dataset.schema, dataset.X)
    members = [
        Member(name, learner, "none", 0.5, build_pipeline(schema, learner, "none", 0, 7.0))
        for name, learner in [("a", "logreg"), ("b", "rf")]
    ]
    for m in members:
        m.pipeline.fit(dataset.X, dataset.y)
    model = TrainedModel(WeightedAverage(members), "ensemble", "none", 0.3, None, schema, members)
    run = tmp_path / "run"
    run.mkdir()
    joblib.dump(model, run / "model.joblib")
    loaded = baseline.load(run, threads=2)
    threaded = [s for m in loaded.members for _, s in m.pipeline.steps if hasattr(s, "n_jobs")]
    assert threaded and all(step.n_jobs == 2 for step in threaded)
    result = baseline.score_csv(loaded, data, tmp_path / "scored.csv")
    assert result["rows"] == 300 and set(result["timings"]) >= {"parse_seconds", "total_seconds"}
    scored = (tmp_path / "scored.csv").read_text().splitlines()
    assert len(scored) == 301 and scored[0].endswith("probability,label")
