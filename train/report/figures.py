"""Every picture in the report, as PNG bytes with a title and caption.

Plotting only: the numbers come from the search, the run folder or
`train.report.stats`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from train import evaluate
from train.report.stats import IMPORTANCE_REPEATS, IMPORTANCE_ROWS, prf

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
NEGATIVE, POSITIVE = "#56B4E9", "#D55E00"
MAX_NUMERIC_PLOTS = 12
MAX_CATEGORICAL_PLOTS = 10
MAX_CATEGORIES = 12


@dataclass
class Figure:
    name: str
    title: str
    png: bytes
    caption: str = ""


def pyplot():
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


def to_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    pyplot().close(fig)
    return buf.getvalue()


# ---------------------------------------------------------------- data overview


def class_balance(y: np.ndarray, schema) -> Figure:
    plt = pyplot()
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
    return Figure("class_balance", "Class balance", to_png(fig))


def numeric_distributions(X: pd.DataFrame, y: np.ndarray, schema) -> Figure | None:
    names = schema.numeric[:MAX_NUMERIC_PLOTS]
    if not names:
        return None
    plt = pyplot()
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
    return Figure("numeric_by_class", "Numeric distributions by class", to_png(fig), caption)


def categorical_rates(X: pd.DataFrame, y: np.ndarray, schema) -> Figure | None:
    names = schema.categorical[:MAX_CATEGORICAL_PLOTS]
    if not names:
        return None
    plt = pyplot()
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
    return Figure("categorical_rates", "Positive rate per category", to_png(fig), caption)


def correlation_heatmap(X: pd.DataFrame, y: np.ndarray, schema) -> Figure | None:
    names = schema.numeric[:20]
    if len(names) < 2:
        return None
    plt = pyplot()
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
    return Figure("correlation", "Correlation heatmap", to_png(fig))


# ---------------------------------------------------------------- curves


def roc_pr_curves(y: np.ndarray, scores: dict[str, np.ndarray]) -> Figure:
    from sklearn.metrics import precision_recall_curve, roc_curve

    plt = pyplot()
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
    return Figure("roc_pr", "ROC and precision-recall curves", to_png(fig))


def confusion(y: np.ndarray, p: np.ndarray, threshold: float, schema) -> Figure:
    plt = pyplot()
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
    return Figure("confusion", "Confusion matrix", to_png(fig))


def threshold_sweep(y: np.ndarray, p: np.ndarray, threshold: float) -> Figure:
    plt = pyplot()
    grid = np.unique(np.quantile(p, np.linspace(0, 1, 201)))
    curves = prf(y, p, grid)
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
        to_png(fig),
        "The threshold was chosen on out-of-fold predictions of the train split.",
    )


def reliability(y: np.ndarray, curves: dict[str, np.ndarray]) -> Figure:
    plt = pyplot()
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
    return Figure("reliability", "Calibration", to_png(fig))


def importance_figure(rows, base) -> Figure:
    plt = pyplot()
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
        to_png(fig),
        f"Mean ± std over {IMPORTANCE_REPEATS} shuffles of up to {IMPORTANCE_ROWS:,} test rows.",
    )
