"""Text for evaluation records: labels, goals and numbers as `evaluate`, `run` and reports show them."""

from __future__ import annotations

import math
from typing import Any

from fuseprune.evaluation.metric import METRICS

#: Measures of the model itself (no sampling seeds, no reference): attribute, label, better, format.
MODEL_ROWS = (
    ("holdout_nll", "holdout NLL per row (nats)", "lower", "{:.3f}"),
    ("layers", "layers", "", "{}"),
    ("parameters", "parameters", "", "{:,}"),
    ("bytes_on_disk", "bytes on disk", "", "{:,}"),
)


def figure_label(name: str) -> str:
    """The label a metric declares for figure ``name`` (the name itself if no metric declares it)."""
    for metric in METRICS.names():
        for figure in METRICS.get(metric).figures:
            if figure.name == name:
                return figure.label
    return name


def goal_text(goal: str, ideal: float | None) -> str:
    """``higher``, ``lower`` or ``near 0.5``."""
    if goal == "target":
        return f"near {ideal:g}"
    return "higher" if goal == "maximize" else "lower"


def number(value: float | None) -> str:
    """A figure as text: four decimals, or one for large numbers; an en dash if undefined."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.4f}"


def spread(mean: float | None, std: float | None) -> str:
    """``mean ± sd`` (just the mean when there is no spread to show)."""
    if mean is None:
        return "–"
    return number(mean) if std is None else f"{number(mean)} ± {number(std)}"


def _shown(figure: Any, which: str = "mean") -> tuple[float | None, float | None]:
    """(value, spread) of a figure or its reference; no spread from a single seed."""
    std = figure.std if which == "mean" else figure.reference_std
    return getattr(figure, which), std if len(figure.per_seed) > 1 else None


def record_rows(record: Any) -> list[tuple[str, str, str, str]]:
    """(label, better, value, reference) of every figure of an evaluation record, then the model's own measures."""
    rows = []
    for name, figure in record.metrics.items():
        reference = "not measured" if figure.reference is None else spread(*_shown(figure, "reference"))
        rows.append((figure_label(name), goal_text(figure.goal, figure.ideal), spread(*_shown(figure)), reference))
    for attribute, label, better, fmt in MODEL_ROWS:
        rows.append((label, better, fmt.format(getattr(record, attribute)), ""))
    rows.append((f"rows/s (median, batch {record.speed_batch_size})", "higher", f"{record.rows_per_second:,.0f}", ""))
    return rows


def paired_rows(first: Any, second: Any) -> list[tuple[str, ...]]:
    """(label, better, first, second, second / first, reference) for two records of one data set."""
    rows: list[tuple[str, ...]] = []
    for name, a in first.metrics.items():
        b = second.metrics.get(name)
        if b is None:
            continue
        ratio = f"{b.mean / a.mean:.3f}" if a.mean and b.mean is not None else ""
        rows.append((figure_label(name), goal_text(a.goal, a.ideal), spread(*_shown(a)), spread(*_shown(b)),
                     ratio, spread(*_shown(a, "reference"))))
    speed = ("rows_per_second", f"rows/s (batch {first.speed_batch_size})", "higher", "{:,.0f}")
    for attribute, label, better, fmt in (*MODEL_ROWS, speed):
        a, b = getattr(first, attribute), getattr(second, attribute)
        rows.append((label, better, fmt.format(a), fmt.format(b), f"{b / a:.3f}" if a else "", ""))
    return rows
