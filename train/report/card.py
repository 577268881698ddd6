"""The model card: what the model is for, what it was trained on, why this
strategy and threshold, its test metrics with intervals, and its limits."""

from __future__ import annotations

from train.report.stats import INTERVAL_METRICS, ranked_candidates


def quote(part: str) -> str:
    return f'"{part}"' if " " in part else part


def why_selected(result, metric: str) -> str:
    model = result.model
    why = (
        f"{model.learner} + {model.strategy} had the best cross-validated {metric} "
        f"({result.winner.mean(metric):.3f})"
    )
    same_learner = [
        c
        for c in ranked_candidates(result.candidates, metric)
        if c is not result.winner and c.learner == model.learner
    ]
    if same_learner:
        best_other = same_learner[0]
        why += (
            f"; the best other strategy for {model.learner} was {best_other.strategy} "
            f"({best_other.mean(metric):.3f})"
        )
    return why


def limitations(dataset, result) -> str:
    y_test = result.y_test
    notes = [
        f"the test split holds {int(y_test.sum())} positives, so its metrics carry the "
        "uncertainty shown in the intervals"
    ]
    if any("duplicate" in n for n in dataset.notes):
        notes.append("exact duplicate rows were kept and can straddle the split")
    if result.model.schema.categorical:
        notes.append(
            "categories never seen in training are scored as if the column were "
            "absent from the one-hot part"
        )
    notes.append(
        "performance holds only while new data resembles the training data; watch "
        "the MeanProbability and PositiveRate metrics for drift"
    )
    return "; ".join(notes) + "."


def ensemble_text(doc: dict) -> str:
    members = sorted(doc["members"], key=lambda m: -m["weight"])
    parts = ", ".join(f"{m['name']} ({m['weight']:.2f})" for m in members)
    return (
        f"weighted average of {len(members)} models' probabilities in one graph: {parts}; "
        f"CV {doc['metric']} {doc['cv_score']:.3f} against {doc['single_best_cv_score']:.3f} "
        "for the single best model"
    )


def rows(dataset, result, config, command, info, intervals, ensemble=None) -> list[list[str]]:
    schema, model, m = result.model.schema, result.model, result.test_metrics
    card = [
        [
            "Intended use",
            f"Rank and flag rows likely to be {schema.target} = "
            f"{schema.positive_label!r} (e.g. whom to contact first). Scores are "
            "probabilities; the label applies the tuned threshold.",
        ],
        [
            "Not for",
            "Decisions about individuals without human review; data whose columns "
            "mean something else than in training; populations unlike the training rows.",
        ],
        [
            "Training data",
            f"{dataset.source}, sha256 {dataset.sha256}, {len(dataset.y):,} rows, "
            f"trained {info['created']}",
        ],
        ["Imbalance strategy", f"{model.strategy}: {why_selected(result, config.metric)}."],
    ]
    if ensemble is not None and ensemble["chosen"]:
        card.append(["Ensemble", ensemble_text(ensemble) + "."])
    card += [
        [
            "Threshold",
            f"{model.threshold:.4f}, objective {config.objective} on out-of-fold "
            "predictions of the train split",
        ],
        [
            "Test metrics (95 % bootstrap CI)",
            "; ".join(
                f"{k} {m[k]:.3f} [{intervals[k][0]:.3f}, {intervals[k][1]:.3f}]"
                for k in INTERVAL_METRICS
            ),
        ],
        ["Known limitations", limitations(dataset, result)],
        ["Reproduce", " ".join(quote(c) for c in command)],
    ]
    return card
