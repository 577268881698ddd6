"""The run's report: data overview, leaderboard, curves, feature importance and
a model card, as one self-contained report.html (images embedded) and a
report.md with the same figures as PNG files beside it.

Everything here reads what the search already computed; the only extra fits
are the runner-up's refit (for its test curves) and the permutation
importance's predictions.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lambda_fn.schema import NUMERIC
from train import evaluate

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
NEGATIVE, POSITIVE = "#56B4E9", "#D55E00"
MAX_NUMERIC_PLOTS = 12
MAX_CATEGORICAL_PLOTS = 10
MAX_CATEGORIES = 12
BOOTSTRAP = 200
IMPORTANCE_ROWS = 5000
IMPORTANCE_REPEATS = 3


@dataclass
class Figure:
    name: str
    title: str
    png: bytes
    caption: str = ""


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "figure.dpi": 110,
            "font.size": 10,
            "axes.titlesize": 11,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    _plt().close(fig)
    return buf.getvalue()


# ---------------------------------------------------------------- data overview


def class_balance(y: np.ndarray, schema) -> Figure:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 2.4))
    counts = [int((y == 0).sum()), int((y == 1).sum())]
    labels = [schema.negative_label, schema.positive_label]
    bars = ax.barh(labels, counts, color=[NEGATIVE, POSITIVE])
    for bar, count in zip(bars, counts, strict=True):
        ax.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            f" {count:,} ({count / len(y):.1%})",
            va="center",
        )
    ax.set_xlabel("rows")
    ax.set_title(f"Class balance of {schema.target!r}")
    ax.set_xlim(0, max(counts) * 1.3)
    return Figure("class_balance", "Class balance", _png(fig))


def numeric_distributions(X: pd.DataFrame, y: np.ndarray, schema) -> Figure | None:
    names = schema.numeric[:MAX_NUMERIC_PLOTS]
    if not names:
        return None
    plt = _plt()
    cols = 3
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.6 * rows), squeeze=False)
    for ax, name in zip(axes.ravel(), names, strict=False):
        values = X[name].to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        lo, hi = np.percentile(finite, [1, 99]) if len(finite) else (0, 1)
        bins = np.linspace(lo, hi if hi > lo else lo + 1, 30)
        for cls, colour, label in (
            (0, NEGATIVE, schema.negative_label),
            (1, POSITIVE, schema.positive_label),
        ):
            v = values[(y == cls) & np.isfinite(values)]
            ax.hist(
                np.clip(v, bins[0], bins[-1]),
                bins=bins,
                density=True,
                alpha=0.55,
                color=colour,
                label=label,
            )
        ax.set_title(name)
        ax.set_ylabel("density")
    for ax in axes.ravel()[len(names) :]:
        ax.axis("off")
    axes.ravel()[0].legend(title=schema.target, fontsize=8)
    fig.suptitle("Numeric columns by class (1st-99th percentile; densities)", y=1.0)
    fig.tight_layout()
    more = len(schema.numeric) - len(names)
    caption = f"{more} more numeric column(s) not shown." if more > 0 else ""
    return Figure("numeric_by_class", "Numeric distributions by class", _png(fig), caption)


def categorical_rates(X: pd.DataFrame, y: np.ndarray, schema) -> Figure | None:
    names = schema.categorical[:MAX_CATEGORICAL_PLOTS]
    if not names:
        return None
    plt = _plt()
    cols = 2
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(11, 3.0 * rows), squeeze=False)
    base = y.mean()
    for ax, name in zip(axes.ravel(), names, strict=False):
        frame = pd.DataFrame({"c": X[name].replace("", "(missing)"), "y": y})
        counts = frame["c"].value_counts()
        keep = list(counts.index[:MAX_CATEGORIES])
        if len(counts) > MAX_CATEGORIES:
            frame.loc[~frame["c"].isin(keep), "c"] = f"other ({len(counts) - len(keep)})"
        rates = frame.groupby("c")["y"].agg(["mean", "size"]).sort_values("mean")
        ax.barh([str(i) for i in rates.index], rates["mean"], color=COLOURS[0])
        ax.axvline(base, color=POSITIVE, linestyle="--", linewidth=1, label="overall")
        ax.set_title(f"{name} ({len(counts)} categories)")
        ax.set_xlabel(f"share {schema.positive_label!r}")
        ax.tick_params(axis="y", labelsize=8)
    for ax in axes.ravel()[len(names) :]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=8)
    fig.suptitle(
        "Positive rate per category (the most frequent categories; the rest as 'other')", y=1.0
    )
    fig.tight_layout()
    more = len(schema.categorical) - len(names)
    caption = f"{more} more categorical column(s) not shown." if more > 0 else ""
    return Figure("categorical_rates", "Positive rate per category", _png(fig), caption)


def correlation_heatmap(X: pd.DataFrame, y: np.ndarray, schema) -> Figure | None:
    names = schema.numeric[:20]
    if len(names) < 2:
        return None
    plt = _plt()
    frame = X[names].astype(float).assign(**{f"{schema.target} = {schema.positive_label}": y})
    corr = frame.corr().to_numpy()
    size = max(4.5, 0.45 * len(frame.columns) + 2)
    fig, ax = plt.subplots(figsize=(size, size * 0.85))
    im = ax.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(frame.columns)), frame.columns, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(frame.columns)), frame.columns, fontsize=8)
    if len(frame.columns) <= 12:
        for i in range(len(frame.columns)):
            for j in range(len(frame.columns)):
                ax.text(
                    j,
                    i,
                    f"{corr[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if abs(corr[i, j]) > 0.6 else "black",
                )
    fig.colorbar(im, ax=ax, label="Pearson correlation")
    ax.set_title("Correlation of numeric columns and the target")
    return Figure("correlation", "Correlation heatmap", _png(fig))


# ---------------------------------------------------------------- curves


def roc_pr_curves(y: np.ndarray, scores: dict[str, np.ndarray]) -> Figure:
    from sklearn.metrics import precision_recall_curve, roc_curve

    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.3))
    for k, (name, p) in enumerate(scores.items()):
        fpr, tpr, _ = roc_curve(y, p)
        prec, rec, _ = precision_recall_curve(y, p)
        m = evaluate.ranking_metrics(y, p)
        a.plot(fpr, tpr, color=COLOURS[k], label=f"{name} (AUC {m['roc_auc']:.3f})")
        b.plot(rec, prec, color=COLOURS[k], label=f"{name} (AP {m['pr_auc']:.3f})")
    a.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance")
    b.axhline(y.mean(), color="grey", linestyle=":", label=f"prevalence {y.mean():.3f}")
    a.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, test split")
    b.set(xlabel="recall", ylabel="precision", title="Precision-recall, test split")
    a.legend(fontsize=8, loc="lower right")
    b.legend(fontsize=8, loc="upper right")
    return Figure("roc_pr", "ROC and precision-recall curves", _png(fig))


def confusion(y: np.ndarray, p: np.ndarray, threshold: float, schema) -> Figure:
    plt = _plt()
    pred = (p >= threshold).astype(int)
    m = np.array([[((y == t) & (pred == q)).sum() for q in (0, 1)] for t in (0, 1)])
    fig, ax = plt.subplots(figsize=(4.4, 3.8))
    ax.imshow(m, cmap="cividis")
    labels = [schema.negative_label, schema.positive_label]
    ax.set_xticks([0, 1], labels)
    ax.set_yticks([0, 1], labels)
    ax.set(
        xlabel="predicted", ylabel="actual", title=f"Confusion matrix at threshold {threshold:.3f}"
    )
    for i in range(2):
        for j in range(2):
            ax.text(
                j,
                i,
                f"{m[i, j]:,}",
                ha="center",
                va="center",
                fontsize=12,
                color="black" if m[i, j] > m.max() / 2 else "white",
            )
    return Figure("confusion", "Confusion matrix", _png(fig))


def _prf(y: np.ndarray, p: np.ndarray, thresholds: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall and F1 of `p >= t` for many t at once."""
    order = np.sort(p)
    positives = np.sort(p[y == 1])
    predicted = len(p) - np.searchsorted(order, thresholds, side="left")
    tp = len(positives) - np.searchsorted(positives, thresholds, side="left")
    precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), 0.0)
    recall = tp / max(len(positives), 1)
    f1 = np.where(
        precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0
    )
    return {"precision": precision, "recall": recall, "f1": f1}


def threshold_sweep(y: np.ndarray, p: np.ndarray, threshold: float) -> Figure:
    plt = _plt()
    grid = np.unique(np.quantile(p, np.linspace(0, 1, 201)))
    curves = _prf(y, p, grid)
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for k, key in enumerate(("precision", "recall", "f1")):
        ax.plot(grid, curves[key], color=COLOURS[k], label=key)
    ax.axvline(
        threshold, color="black", linestyle="--", linewidth=1, label=f"chosen {threshold:.3f}"
    )
    ax.set(
        xlabel="decision threshold on the probability",
        ylabel="value (positive class)",
        title="Precision, recall and F1 against the threshold (test split)",
        ylim=(0, 1.02),
    )
    ax.legend(fontsize=8)
    return Figure(
        "threshold",
        "Metrics against threshold",
        _png(fig),
        "The threshold was chosen on out-of-fold predictions of the train split.",
    )


def reliability(y: np.ndarray, curves: dict[str, np.ndarray]) -> Figure:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4.3))
    edges = np.linspace(0, 1, 11)
    for k, (name, p) in enumerate(curves.items()):
        idx = np.clip(np.digitize(p, edges) - 1, 0, 9)
        xs, ys = [], []
        for b in range(10):
            mask = idx == b
            if mask.sum() >= 5:
                xs.append(p[mask].mean())
                ys.append(y[mask].mean())
        brier = evaluate.ranking_metrics(y, p)["brier"]
        ax.plot(xs, ys, marker="o", color=COLOURS[k], label=f"{name} (Brier {brier:.4f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    ax.set(
        xlabel="mean predicted probability",
        ylabel="observed positive rate",
        title="Reliability (test split, 10 bins)",
    )
    ax.legend(fontsize=8)
    return Figure("reliability", "Calibration", _png(fig))


def permutation_importance(model, X: pd.DataFrame, y: np.ndarray, seed: int):
    """Drop in PR AUC when one column is shuffled; works for every learner."""
    rng = np.random.default_rng(seed)
    if len(X) > IMPORTANCE_ROWS:
        take = rng.choice(len(X), IMPORTANCE_ROWS, replace=False)
        X, y = X.iloc[take].reset_index(drop=True), y[take]
    base = evaluate.ranking_metrics(y, model.predict_proba(X))["pr_auc"]
    rows = []
    for name in model.schema.names:
        drops = []
        for _ in range(IMPORTANCE_REPEATS):
            shuffled = X.copy()
            shuffled[name] = rng.permutation(shuffled[name].to_numpy())
            drops.append(
                base - evaluate.ranking_metrics(y, model.predict_proba(shuffled))["pr_auc"]
            )
        rows.append((name, float(np.mean(drops)), float(np.std(drops))))
    rows.sort(key=lambda r: r[1])
    return rows, base


def importance_figure(rows, base) -> Figure:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 0.32 * len(rows) + 1.2))
    ax.barh(
        [r[0] for r in rows],
        [r[1] for r in rows],
        xerr=[r[2] for r in rows],
        color=COLOURS[0],
        ecolor="grey",
    )
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set(
        xlabel=f"drop in PR AUC when the column is shuffled (baseline {base:.3f})",
        title="Permutation importance (test split)",
    )
    return Figure(
        "importance",
        "Feature importance",
        _png(fig),
        f"Mean ± std over {IMPORTANCE_REPEATS} shuffles of up to {IMPORTANCE_ROWS:,} test rows.",
    )


def bootstrap_intervals(y: np.ndarray, p: np.ndarray, threshold: float, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    keys = ("roc_auc", "pr_auc", "f1", "precision", "recall")
    samples = {k: [] for k in keys}
    n = len(y)
    for _ in range(BOOTSTRAP):
        i = rng.integers(0, n, n)
        if y[i].min() == y[i].max():
            continue
        m = evaluate.ranking_metrics(y[i], p[i])
        for k, v in _prf(y[i], p[i], np.array([threshold])).items():
            m[k] = float(v[0])
        for k in keys:
            samples[k].append(m[k])
    return {
        k: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))) for k, v in samples.items()
    }


# ---------------------------------------------------------------- assembly


def _table(header: list[str], rows: list[list], highlight: int | None = None) -> tuple[str, str]:
    md = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    hs = [
        "<table><thead><tr>"
        + "".join(f"<th>{html.escape(h)}</th>" for h in header)
        + "</tr></thead><tbody>"
    ]
    for k, row in enumerate(rows):
        cells = [str(c) for c in row]
        strong = k == highlight
        md.append("| " + " | ".join(f"**{c}**" if strong else c for c in cells) + " |")
        cls = ' class="winner"' if strong else ""
        hs.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    hs.append("</tbody></table>")
    return "\n".join(md), "".join(hs)


def build(dataset, result, config, command: list[str], train_fn=None) -> dict:
    """Compute the report's figures and text; returns the pieces to write."""
    from train.search import build_pipeline, fit_params

    X, y, schema = dataset.X, dataset.y, result.model.schema
    model = result.model
    figures: list[Figure] = [class_balance(y, schema)]
    for maker in (numeric_distributions, categorical_rates, correlation_heatmap):
        fig = maker(X, y, schema)
        if fig is not None:
            figures.append(fig)
    overview = [fig.name for fig in figures]

    p_test = model.predict_proba(result.X_test)
    y_test = result.y_test
    scores = {f"{model.learner} + {model.strategy} (selected)": p_test}
    ranked = sorted(
        (c for c in result.candidates if c.error is None and c is not result.winner),
        key=lambda c: -c.mean(config.metric),
    )
    if ranked:
        runner = ranked[0]
        train_X = result.X_train
        pipe = build_pipeline(
            schema, runner.learner, runner.strategy, config.seed, result.ratio, config.sums
        )
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipe.fit(
                train_X,
                result.y_train,
                **fit_params(runner.learner, runner.strategy, result.y_train),
            )
            scores[f"{runner.learner} + {runner.strategy} (runner-up)"] = pipe.predict_proba(
                result.X_test[schema.names]
            )[:, 1]
    figures.append(roc_pr_curves(y_test, scores))
    figures.append(confusion(y_test, p_test, model.threshold, schema))
    figures.append(threshold_sweep(y_test, p_test, model.threshold))
    curves = {"selected model": p_test}
    if model.calibration is not None:
        raw = model.pipeline.predict_proba(result.X_test[schema.names])[:, 1]
        curves = {"before calibration": raw, "after calibration (served)": p_test}
    figures.append(reliability(y_test, curves))
    importance, base = permutation_importance(model, result.X_test, y_test, config.seed)
    figures.append(importance_figure(importance, base))
    intervals = bootstrap_intervals(y_test, p_test, model.threshold, config.seed)
    return {
        "figures": figures,
        "overview": overview,
        "intervals": intervals,
        "importance": importance,
        "command": command,
    }


def write(out: Path, dataset, result, config, command: list[str], info: dict) -> None:
    """Write report.html, report.md and figures/*.png into the run folder `out`."""
    parts = build(dataset, result, config, command)
    figures: list[Figure] = parts["figures"]
    by_name = {f.name: f for f in figures}
    (out / "figures").mkdir(exist_ok=True)
    for f in figures:
        (out / "figures" / f"{f.name}.png").write_bytes(f.png)
    schema = result.model.schema
    X, y = dataset.X, dataset.y
    model, m = result.model, result.test_metrics
    md: list[str] = []
    hs: list[str] = []

    def section(title):
        md.extend(["", f"## {title}", ""])
        hs.append(f"<h2>{html.escape(title)}</h2>")

    def para(text):
        md.extend([text, ""])
        hs.append(f"<p>{html.escape(text)}</p>")

    def table(header, rows, highlight=None):
        t_md, t_html = _table(header, rows, highlight)
        md.extend([t_md, ""])
        hs.append(t_html)

    def figure(name):
        f = by_name.get(name)
        if f is None:
            return
        md.extend([f"![{f.title}](figures/{f.name}.png)", ""])
        data = base64.b64encode(f.png).decode()
        cap = f"<figcaption>{html.escape(f.caption)}</figcaption>" if f.caption else ""
        hs.append(
            f'<figure><img alt="{html.escape(f.title)}" src="data:image/png;base64,'
            f'{data}">{cap}</figure>'
        )
        if f.caption:
            md.extend([f"*{f.caption}*", ""])

    title = f"Model report: {schema.target} = {schema.positive_label}"
    md.append(f"# {title}")
    hs.append(f"<h1>{html.escape(title)}</h1>")
    para(
        f"Data {dataset.source} (sha256 {dataset.sha256[:16]}…), trained {info['created']}. "
        f"Selected {model.learner} + {model.strategy}, threshold {model.threshold:.4f}."
    )

    section("Data overview")
    para(
        f"{len(y):,} rows, {len(schema.features)} feature columns "
        f"({len(schema.numeric)} numeric, {len(schema.categorical)} categorical); "
        f"{int(y.sum()):,} positive ({y.mean():.2%})."
    )
    figure("class_balance")
    missing = []
    for f in schema.features:
        n = int(X[f.name].isna().sum()) if f.kind == NUMERIC else int((X[f.name] == "").sum())
        if n:
            missing.append([f.name, f.kind, f"{n:,}", f"{n / len(X):.2%}"])
    if missing:
        table(["column", "kind", "missing", "share"], missing)
    else:
        para("No missing values.")
    if schema.dropped:
        table(["dropped column", "why"], [[k, v] for k, v in schema.dropped.items()])
    figure("numeric_by_class")
    figure("categorical_rates")
    figure("correlation")

    section("Leaderboard")
    para(
        f"Cross-validated on the train split ({config.folds} folds); mean ± std over folds. "
        f"Selected by {config.metric}. F1, precision and recall at each candidate's tuned "
        "threshold."
    )
    rows, winner_row = [], None
    ranked = sorted(
        result.candidates,
        key=lambda c: (c.error is not None, -c.mean(config.metric) if c.error is None else 0),
    )
    for k, c in enumerate(ranked):
        if c is result.winner:
            winner_row = k
        if c.error:
            rows.append([c.learner, c.strategy, f"failed: {c.error}", "", "", "", "", ""])
            continue
        rows.append(
            [c.learner, c.strategy]
            + [
                f"{c.mean(key):.3f} ± {c.std(key):.3f}"
                for key in ("pr_auc", "roc_auc", "f1", "precision", "recall", "brier")
            ]
        )
    table(
        ["learner", "strategy", "PR AUC", "ROC AUC", "F1", "precision", "recall", "Brier"],
        rows,
        highlight=winner_row,
    )
    para("The selected model on the held-out test split (evaluated once):")
    table(
        ["class", "precision", "recall", "F1", "support"],
        [
            [
                r["class"],
                f"{r['precision']:.2f}",
                f"{r['recall']:.2f}",
                f"{r['f1']:.2f}",
                f"{r['support']:,}",
            ]
            for r in m["per_class"]
        ],
    )

    section("Curves")
    figure("roc_pr")
    figure("confusion")
    figure("threshold")
    figure("reliability")
    cal = result.calibration_report
    if cal["applied"]:
        para(
            f"Platt calibration was applied ({cal['reason']}): Brier on the test split "
            f"{cal['test_brier_uncalibrated']:.4f} before, {cal['test_brier']:.4f} after."
        )
    else:
        para(f"No calibration: {cal['reason']}. Brier on the test split {cal['test_brier']:.4f}.")

    section("Feature importance")
    figure("importance")

    section("Model card")
    ci = parts["intervals"]
    others = [c for c in result.candidates if c.error is None and c is not result.winner]
    same_learner = [c for c in others if c.learner == model.learner]
    why = (
        f"{model.learner} + {model.strategy} had the best cross-validated {config.metric} "
        f"({result.winner.mean(config.metric):.3f})"
    )
    if same_learner:
        best_other = max(same_learner, key=lambda c: c.mean(config.metric))
        why += (
            f"; the best other strategy for {model.learner} was {best_other.strategy} "
            f"({best_other.mean(config.metric):.3f})"
        )
    table(
        ["", ""],
        [
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
                f"{dataset.source}, sha256 {dataset.sha256}, {len(y):,} rows, "
                f"trained {info['created']}",
            ],
            ["Imbalance strategy", f"{model.strategy}: {why}."],
            [
                "Threshold",
                f"{model.threshold:.4f}, objective {config.objective} on out-of-fold "
                "predictions of the train split",
            ],
            [
                "Test metrics (95 % bootstrap CI)",
                "; ".join(
                    f"{k} {m[k]:.3f} [{ci[k][0]:.3f}, {ci[k][1]:.3f}]"
                    for k in ("roc_auc", "pr_auc", "f1", "precision", "recall")
                ),
            ],
            ["Known limitations", _limitations(dataset, result)],
            ["Reproduce", " ".join(_quote(c) for c in command)],
        ],
    )

    page = _HTML.format(title=html.escape(title), body="\n".join(hs))
    (out / "report.html").write_text(page)
    (out / "report.md").write_text("\n".join(md) + "\n")


def _quote(part: str) -> str:
    return f'"{part}"' if " " in part else part


def _limitations(dataset, result) -> str:
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


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #1a1a1a; line-height: 1.45; }}
h1 {{ font-size: 1.6em; }} h2 {{ margin-top: 2em; border-bottom: 1px solid #ccc; }}
table {{ border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f2f2f2; }}
tr.winner td {{ background: #fff2cc; font-weight: 600; }}
figure {{ margin: 1em 0; }} img {{ max-width: 100%; height: auto; }}
figcaption {{ font-size: 0.85em; color: #555; }}
</style></head><body>
{body}
</body></html>
"""
