"""write_report: a results folder -> a report folder (report.md, CSV tables, PNG plots).

The report folder is written atomically: it appears complete or not at all.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fuseprune.compare import analysis, plots
from fuseprune.compare.store import GRID_FILE, ResultStore, cell_of
from fuseprune.outputs import REPORT, check_folder, output_folder

INTRO = """\
Each cell takes the teacher of (data set, seed) and removes one layer at a time,
the one its strategy ranks lowest, re-ranking the smaller model after every
removal, until one layer is left. After every step the student is measured
without healing: SDMetrics quality of sampled rows against the real holdout
rows (0..1, higher is better) and the holdout NLL per row (nats, lower is
better). Figures are means over teacher seeds. SDMetrics quality saturates
near its ceiling on easy data; the holdout NLL tells strategies apart there.
`ablation` is the oracle (it measures the loss of removing every candidate);
it is shown for reference and left out of the winner counts.
"""


@dataclass
class Report:
    """The tables of a report, by file stem, and where it was written."""

    folder: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    winners: dict[str, pd.Series] = field(default_factory=dict)
    missing_cells: int = 0


def write_report(results: str | Path, out: str | Path | None = None, overwrite: bool = False) -> Report:
    """Write the report of the results folder ``results`` to ``out`` (default ``results/report``).

    Raises:
        OutputError: ``out`` is not a report folder fuseprune wrote (and not ``overwrite``).
    """
    if out is not None:
        check_folder(out, REPORT, overwrite)
    store = ResultStore(results)
    records = store.records()
    frame = analysis.steps_frame(records)
    curve = analysis.curves(frame)
    out = Path(out) if out is not None else store.folder / "report"
    report = Report(out, missing_cells=len(set(store.config.cells()) - {cell_of(r) for r in records
                                                                         if r["next"] is None}))
    criteria = _criteria(curve)
    for name, (table, higher) in criteria.items():
        report.tables[name] = table
        report.winners[name] = analysis.winners(table, higher)
    report.tables["rank_correlation"] = analysis.rank_correlation(records)
    report.tables["wall_time"] = analysis.wall_time(frame)
    report.tables["fusion_rf_vs_best_signal"] = analysis.fusion_versus_best_signal(*criteria["quality_auc"])
    report.tables["fusion_rf_vs_best_signal_nll"] = analysis.fusion_versus_best_signal(*criteria["nll_auc"])
    with output_folder(out, REPORT, overwrite) as tmp:
        (tmp / "tables").mkdir()
        curve.to_csv(tmp / "tables" / "curves.csv", index=False)
        for name, table in report.tables.items():
            table.to_csv(tmp / "tables" / f"{name}.csv")
        pd.DataFrame(report.winners).fillna(0).astype(int).to_csv(tmp / "tables" / "winner_counts.csv")
        plots.curve_panels(curve, tmp / "curves.png")
        has_distilled = curve["distilled_quality"].notna().any()
        if has_distilled:
            plots.curve_panels(curve, tmp / "curves_distilled.png", ("distilled_quality", "distilled_holdout_nll"))
        plots.rank_heatmaps(analysis.layer_ranks(records), tmp / "layer_ranks.png")
        (tmp / "report.md").write_text(_markdown(store, report, has_distilled), encoding="utf-8")
    return report


def _criteria(curve: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, bool]]:
    criteria = {
        "best_quality": (analysis.best_quality(curve), True),
        "quality_at_half": (analysis.at_half(curve), True),
        "quality_auc": (analysis.area_under(curve), True),
        "nll_auc": (analysis.area_under(curve, "holdout_nll"), False),
    }
    if curve["distilled_quality"].notna().any():
        criteria["distilled_quality_auc"] = (analysis.area_under(curve, "distilled_quality"), True)
        criteria["distilled_nll_auc"] = (analysis.area_under(curve, "distilled_holdout_nll"), False)
    return criteria


TITLES = {
    "best_quality": "Best quality after removing at least one layer",
    "quality_at_half": "Quality with half the layers removed",
    "quality_auc": "Mean quality along the pruning path (area under the curve / width)",
    "nll_auc": "Mean holdout NLL along the pruning path (lower is better)",
    "distilled_quality_auc": "Mean quality along the path, each step after a short distillation",
    "distilled_nll_auc": "Mean holdout NLL along the path after distillation (lower is better)",
}


def _markdown(store: ResultStore, report: Report, has_distilled: bool) -> str:
    grid = json.loads((store.folder / GRID_FILE).read_text(encoding="utf-8"))
    config = store.config
    lines = ["# Pruning strategy comparison", "",
             f"fuseprune {grid['fuseprune']}, preset `{config.preset}`, data sets: {', '.join(config.datasets)}; "
             f"teacher seeds {', '.join(map(str, config.seeds))}; {len(config.strategies)} strategies; quality from "
             f"{len(config.quality_seeds)} sampling seed(s) per step.", ""]
    if report.missing_cells:
        lines += [f"**Incomplete:** {report.missing_cells} of {len(config.cells())} cells have not finished.", ""]
    lines += [INTRO, "## Winner counts", "",
              "Data sets on which each strategy is best (ties count for each tied strategy).", "",
              _table(pd.DataFrame(report.winners).fillna(0).astype(int), "{:d}"), ""]
    lines += ["## Curves", "", "![quality and holdout NLL against layers removed](curves.png)", ""]
    if has_distilled:
        lines += ["![the same after a short distillation at each step](curves_distilled.png)", ""]
    for name in report.winners:
        lines += [f"## {TITLES[name]}", "", "Best per data set in bold; the last column is the mean over data sets.",
                  "", _table(_with_mean(report.tables[name]).T, "{:.4f}", bold=_best(report.tables[name], name)), ""]
    for name, title in (("fusion_rf_vs_best_signal", "quality AUC"), ("fusion_rf_vs_best_signal_nll", "NLL AUC")):
        table = report.tables[name]
        if not table.empty:
            lines += [f"## Forest fusion against the best single signal ({title})", "", _table(table, "{:.4f}"), ""]
    lines += ["## Rank correlation with the oracle", "",
              "Spearman correlation of each strategy's ranking of the intact teacher with the measured impact "
              "of removing each layer alone (mean over seeds).", "",
              _table(_with_mean(report.tables["rank_correlation"]).T, "{:.3f}"), "",
              "![removal rank of each layer by each strategy](layer_ranks.png)", "",
              "## Wall time per strategy", "", _table(report.tables["wall_time"], "{:.3f}"), "",
              "Tables as CSV: `tables/`."]
    return "\n".join(lines) + "\n"


def _best(table: pd.DataFrame, name: str) -> Callable[[Any, Any], bool]:
    higher = "nll" not in name
    contenders = table.drop(columns=[analysis.REFERENCE], errors="ignore")
    best = contenders.max(axis=1) if higher else contenders.min(axis=1)
    return lambda strategy, dataset: (strategy != analysis.REFERENCE
                                      and math.isclose(table.loc[dataset, strategy], best[dataset], abs_tol=1e-12))


def _with_mean(table: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([table, table.mean().to_frame("mean").T])


def _table(table: pd.DataFrame, number: str, bold: Callable[[Any, Any], bool] | None = None) -> str:
    """A markdown table; ``bold(row, column)`` marks cells to emphasise."""
    header = ["", *map(str, table.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for index, row in table.iterrows():
        cells = [str(index)]
        for column, value in row.items():
            text = _format(value, number)
            cells.append(f"**{text}**" if bold is not None and _safe(bold, index, column) else text)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _safe(bold: Callable[[Any, Any], bool], index: Any, column: Any) -> bool:
    try:
        return bool(bold(index, column))
    except (KeyError, TypeError):
        return False


def _format(value: Any, number: str) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, numbers.Real) and math.isnan(value):
        return "–"
    if isinstance(value, numbers.Real):
        try:
            return number.format(value)
        except ValueError:
            return f"{value:.4f}"
    return str(value)
