"""PNG plots of a comparison: curve panels per data set and a heatmap of layer ranks.

Made to survive black-and-white print: highlighted strategies differ in
colour (Okabe-Ito, colour-blind safe), marker and line style at once; the
remaining single signals are thin grey lines; heatmap cells carry their value.

Figures are drawn with matplotlib's object-oriented API (``Figure``, no
pyplot), so importing this module neither picks a backend nor keeps figures.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from fuseprune.compare.analysis import highlighted

#: strategy -> (colour, marker, line style); the best single signal takes the "signal" style.
STYLES = {
    "fusion-rf": ("#D55E00", "o", "-"),
    "fusion-lr": ("#0072B2", "s", "--"),
    "ablation": ("#000000", "^", ":"),
    "random": ("#999999", "x", "-."),
    "signal": ("#009E73", "D", (0, (5, 1))),
}
LABELS = {"ablation": "ablation (oracle)"}
SHORT = {"quality": "quality (higher is better)", "holdout_nll": "holdout NLL (lower is better)",
         "distilled_quality": "quality after distillation", "distilled_holdout_nll": "NLL after distillation"}


def curve_panels(curve: pd.DataFrame, path: Path, measures: tuple[str, ...] = ("quality", "holdout_nll"),
                 columns: int = 4) -> Path:
    """Per data set, one panel per measure stacked in a column: each strategy's curve against layers removed."""
    datasets = sorted(curve["dataset"].unique())
    columns = min(columns, len(datasets))
    blocks = math.ceil(len(datasets) / columns)
    fig = Figure(figsize=(4.2 * columns, 3.0 * blocks * len(measures)))
    axes = fig.subplots(blocks * len(measures), columns, squeeze=False)
    for index, dataset in enumerate(datasets):
        data = curve[curve["dataset"] == dataset]
        colour = highlighted(data, dataset)
        for offset, measure in enumerate(measures):
            ax = axes[index // columns * len(measures) + offset][index % columns]
            for strategy, group in data.groupby("strategy"):
                group = group.sort_values("step")
                if strategy in colour:
                    c, marker, style = STYLES.get(strategy, STYLES["signal"])
                    label = LABELS.get(strategy, strategy if strategy in STYLES else f"{strategy} (best signal)")
                    ax.plot(group["step"], group[measure], color=c, marker=marker, linestyle=style, linewidth=1.8,
                            markersize=5, label=label, zorder=3)
                else:
                    ax.plot(group["step"], group[measure], color="#BBBBBB", linewidth=0.8, zorder=1,
                            label="other single signals")
            ax.grid(alpha=0.3)
            ax.set_title(f"{dataset}: {SHORT.get(measure, measure)}", fontsize=10)
            ax.set_xlabel("layers removed", fontsize=8)
            if offset == 0:
                handles, labels = ax.get_legend_handles_labels()
                unique = dict(zip(labels, handles, strict=True))
                ax.legend(unique.values(), unique.keys(), fontsize=7, loc="lower left", framealpha=0.85)
    for index in range(len(datasets), blocks * columns):
        for offset in range(len(measures)):
            axes[index // columns * len(measures) + offset][index % columns].axis("off")
    fig.tight_layout()
    return _save(fig, path)


def rank_heatmaps(ranks: dict[str, pd.DataFrame], path: Path) -> Path:
    """One panel per data set: strategy x layer, the removal rank of each layer (1 = removed first)."""
    datasets = sorted(ranks)
    columns = min(3, len(datasets))
    rows = math.ceil(len(datasets) / columns)
    height = max(len(table) for table in ranks.values()) * 0.32 + 1.2
    fig = Figure(figsize=(1.6 + 3.2 * columns, height * rows))
    axes = fig.subplots(rows, columns, squeeze=False, sharey=True)
    strategies = sorted({s for table in ranks.values() for s in table.index} - {"oracle"})
    order = ["oracle", *strategies]  # the same rows in every panel; names only on the left
    image = None
    for ax, dataset in zip(axes.flat, datasets, strict=False):  # spare panels stay empty
        table = ranks[dataset].reindex(order)
        image = ax.imshow(table.to_numpy(), cmap="cividis_r", aspect="auto", vmin=1, vmax=table.shape[1])
        ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns])
        ax.set_yticks(range(len(table)), table.index, fontsize=7)
        ax.set_xlabel("layer")
        ax.set_title(dataset, fontsize=10)
        for (i, j), value in pd.DataFrame(table.to_numpy()).stack().dropna().items():
            ax.text(j, i, f"{value:.1f}".rstrip("0").rstrip("."), ha="center", va="center", fontsize=6,
                    color="white" if value > table.shape[1] / 2 else "black")
    for ax in list(axes.flat)[len(datasets):]:
        ax.axis("off")
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.6, label="removal rank (1 = removed first)")
    return _save(fig, path)


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130, bbox_inches="tight")
    return path
