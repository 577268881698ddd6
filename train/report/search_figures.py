"""The search's figures: its trajectory over time, and serving cost against quality."""

from __future__ import annotations

import pandas as pd

from train.report.figures import COLOURS, Figure, pyplot, to_png


def _learner_colours(learners) -> dict[str, str]:
    return {name: COLOURS[k % len(COLOURS)] for k, name in enumerate(sorted(set(learners)))}


def search_trajectory(trials: pd.DataFrame, metric: str) -> Figure:
    """Each trial's CV score over time, and the best so far as a step line."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.2))
    colours = _learner_colours(trials["learner"])
    state = trials["state"].str.lower()
    for learner, colour in colours.items():
        mine = trials["learner"] == learner
        done = mine & (state == "complete")
        pruned = mine & (state == "pruned")
        ax.scatter(
            trials.loc[done, "elapsed_seconds"],
            trials.loc[done, "score"],
            s=18,
            color=colour,
            label=f"{learner} ({int(mine.sum())})",
        )
        ax.scatter(
            trials.loc[pruned, "elapsed_seconds"],
            trials.loc[pruned, "score"],
            s=18,
            facecolors="none",
            edgecolors=colour,
        )
    ax.step(
        trials["elapsed_seconds"],
        trials["best_so_far"].ffill(),
        where="post",
        color="black",
        linewidth=1.4,
        label="best so far",
    )
    ax.set(
        xlabel="seconds since the search started",
        ylabel=f"CV {metric}",
        title=f"Search trajectory: {len(trials)} trials",
    )
    ax.legend(fontsize=8, title="learner (trials)", title_fontsize=8)
    return Figure(
        "search_trajectory",
        "Search trajectory",
        to_png(fig),
        "Filled: completed trials; hollow: pruned ones (their score when stopped); "
        "failed trials have no score and are not drawn.",
    )


def cost_quality(frame: pd.DataFrame, metric: str) -> Figure:
    """CV score against serving cost (µs per row, graph size), the picked model starred."""
    plt = pyplot()
    from matplotlib.ticker import FuncFormatter, LogFormatter

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    colours = _learner_colours(frame["learner"])
    score, spread = frame[f"{metric}_mean"], frame.get(f"{metric}_std")
    picked = frame["selected"].to_numpy(dtype=bool)
    for ax, column, scale, label in (
        (axes[0], "us_per_row", 1.0, "µs per row on onnxruntime"),
        (axes[1], "onnx_bytes", 1 / 1024, "ONNX graph size (KiB)"),
    ):
        x = frame[column] * scale
        for learner, colour in colours.items():
            mine = (frame["learner"] == learner).to_numpy()
            ax.errorbar(
                x[mine],
                score[mine],
                yerr=None if spread is None else spread[mine],
                fmt="o",
                markersize=5,
                color=colour,
                ecolor=colour,
                elinewidth=0.8,
                alpha=0.85,
                label=learner,
            )
        if picked.any():
            ax.scatter(
                x[picked],
                score[picked],
                marker="*",
                s=260,
                facecolors="none",
                edgecolors="black",
                linewidths=1.4,
                label="picked",
                zorder=3,
            )
        ax.set_xscale("log")
        narrow = x.max() < 10 * x.min()  # under a decade: label the minor ticks plainly
        plain = FuncFormatter(lambda v, _: f"{v:g}")
        for set_formatter in (ax.xaxis.set_major_formatter, ax.xaxis.set_minor_formatter):
            set_formatter(
                plain if narrow else LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.6))
            )
        ax.set_xlabel(label)
    axes[0].set_ylabel(f"CV {metric} (mean ± std over folds)")
    axes[0].legend(fontsize=8)
    fig.suptitle("Serving cost against quality", y=1.0)
    fig.tight_layout()
    caption = "Costs as the leaderboard recorded them; the star marks the picked model."
    if not picked.any():
        caption = "Costs as the leaderboard recorded them; no row is marked as selected."
    return Figure("cost_quality", "Serving cost against quality", to_png(fig), caption)
