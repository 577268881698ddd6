"""Why k-nearest neighbours is not in the learner zoo: its ONNX graph misses the parity bar.

    python scripts/knn_parity.py --data data/marketing_data.csv --target y --positive yes

Fits the k-NN the zoo used to have (25 neighbours, on the same preprocessing
as the scaled learners; uniform and distance weighting) on the train split that
`python -m train` makes, converts it with the same export code as every other
learner, and runs export's parity check on the test split and edge rows.
Prints the parity report; the bar is |dp| <= 1e-5 and 100 % equal labels.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402

from contract.feeds import from_frame  # noqa: E402
from export import parity  # noqa: E402
from export.graph import build_graph  # noqa: E402
from train.data import load_dataset  # noqa: E402
from train.search import build_pipeline, train_schema  # noqa: E402
from train.trained import TrainedModel  # noqa: E402


def knn_report(data: str, target: str, positive: str | None, seed: int = 42) -> dict:
    """Parity for uniform and distance weighting; for the latter, also how far
    the graph is from scikit-learn's uniform-weight answer."""
    dataset = load_dataset(data, target, positive)
    X_train, X_test, y_train, _ = train_test_split(
        dataset.X, dataset.y, test_size=0.2, stratify=dataset.y, random_state=seed
    )
    X_test = X_test.reset_index(drop=True)
    schema = train_schema(dataset.schema, X_train)
    out = {}
    for weights in ("uniform", "distance"):
        pipeline = build_pipeline(schema, "logreg", "none", seed, 1.0)  # scaled preprocessing
        pipeline.steps[-1] = ("model", KNeighborsClassifier(n_neighbors=25, weights=weights))
        pipeline.fit(X_train, y_train)
        model = TrainedModel(pipeline, "knn", "none", 0.5, None, schema)
        graph = build_graph(model).SerializeToString()
        report = parity.check(graph, model, X_test)
        entry = {"passed": report["passed"], **report["sets"]}
        if weights == "distance":
            session = ort.InferenceSession(graph, providers=["CPUExecutionProvider"])
            p_onnx = session.run(["probability"], from_frame(X_test, schema))[0]
            pipeline.set_params(model__weights="uniform")
            p_uniform = pipeline.predict_proba(X_test)[:, 1]
            entry["test_split_vs_uniform_weights"] = float(np.abs(p_onnx - p_uniform).max())
        out[weights] = entry
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="parity of a k-NN model's ONNX graph")
    p.add_argument("--data", default=str(ROOT / "data" / "marketing_data.csv"))
    p.add_argument("--target", default="y")
    p.add_argument("--positive", default="yes")
    args = p.parse_args(argv)
    print(json.dumps(knn_report(args.data, args.target, args.positive), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
