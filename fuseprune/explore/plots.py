"""PNG plots of a compression search: quality ratio against speed-up and against bytes on disk, frontier drawn.

Drawn with matplotlib's object-oriented API (``Figure``, no pyplot), like
:mod:`fuseprune.compare.plots`: colours from the Okabe-Ito palette (colour-blind
safe) and a marker per method mix, so the plot survives black-and-white print.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from fuseprune.explore.pareto import Point

PALETTE = ("#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def mix_of(name: str) -> str:
    """The methods of a candidate name, without their settings: ``depth+svd+int8``."""
    return "+".join(part.split("(", 1)[0] for part in name.split("+"))


def frontier_plot(points: Sequence[Point], frontier: Sequence[Point], path: Path, *, size: bool, target: float,
                  teacher_bytes: int, chosen: str | None) -> Path:
    """Quality ratio (y) against speed-up or, with ``size``, bytes on disk (x, log scale); the frontier joined."""
    fig = Figure(figsize=(7.0, 4.6))
    ax = fig.subplots()
    mixes = sorted({mix_of(p.name) for p in points})
    for index, mix in enumerate(mixes):
        group = [p for p in points if mix_of(p.name) == mix]
        ax.scatter([_x(p, size) for p in group], [p.quality for p in group], s=28, label=mix,
                   color=PALETTE[index % len(PALETTE)], marker=MARKERS[index % len(MARKERS)], zorder=3)
    line = sorted(frontier, key=lambda p: _x(p, size))
    ax.plot([_x(p, size) for p in line], [p.quality for p in line], color="#555555", linewidth=1.0,
            linestyle="--", label="Pareto frontier", zorder=2)
    ax.scatter([teacher_bytes if size else 1.0], [1.0], s=70, marker="*", color="#000000", label="teacher", zorder=4)
    best = [p for p in points if p.name == chosen]
    if best:
        ax.scatter([_x(best[0], size)], [best[0].quality], s=160, facecolors="none", edgecolors="#D55E00",
                   linewidths=1.8, label="chosen", zorder=5)
    ax.axhline(target, color="#999999", linewidth=0.8, linestyle=":", label=f"target {target:g}")
    if size:
        ax.set_xscale("log")
    ax.set_xlabel("bytes on disk (log scale; lower is better)" if size else
                  "rows/s relative to the teacher, same run (higher is better)")
    ax.set_ylabel("quality / teacher's quality")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left", framealpha=0.85)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130, bbox_inches="tight")
    return path


def _x(point: Point, size: bool) -> float:
    return float(point.size) if size else point.speed
