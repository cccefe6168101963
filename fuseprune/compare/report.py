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
from fuseprune.compare.regret_goal import TITLES as REGRET_TITLES
from fuseprune.compare.regret_goal import fusion_goal, goal_sections, regret_criteria
from fuseprune.compare.store import GRID_FILE, ResultStore, cell_of
from fuseprune.compare.subset_tables import read_tables
from fuseprune.evaluation.display import figure_label
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

Nothing here is called better unless a paired test says so: the values of
two strategies are paired by (data set, teacher seed), and a claim needs both
a two-sided Wilcoxon signed-rank p < 0.05 and a 95 % bootstrap interval of
the mean difference that excludes zero; anything else is a tie. Fewer than six
pairs can never separate two strategies, so with few teacher seeds every
single data set is a tie and only the comparisons across data sets can speak.
Each verdict is tested on its own at the 5 % level, without correction for the
many verdicts of a table, so expect about one false alarm in twenty ties.
"""


@dataclass
class Report:
    """The tables of a report, by file stem, and where it was written.

    ``winners`` counts, per criterion, the data sets each strategy won with a
    separated lead (see the module docstring); ``ties`` the data sets nobody won.
    """

    folder: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    winners: dict[str, pd.Series] = field(default_factory=dict)
    ties: dict[str, int] = field(default_factory=dict)
    references: pd.DataFrame = field(default_factory=pd.DataFrame)
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
    frame = analysis.steps_frame(records, read_tables(store.subset_lines()))
    curve = analysis.curves(frame)
    out = Path(out) if out is not None else store.folder / "report"
    report = Report(out, references=analysis.references(records),
                    missing_cells=len(set(store.config.cells()) - {cell_of(r) for r in records if r["next"] is None}))
    seeds, separated, comparisons = {}, {}, []
    for name, (function, measure, higher) in _criteria(curve).items():
        report.tables[name] = function(curve, measure)
        seeds[name] = analysis.per_seed(frame, function, measure)
        separated[name] = analysis.separated_winners(seeds[name], higher)
        report.winners[name] = analysis.winner_counts(separated[name], report.tables[name].columns)
        report.ties[name] = int(separated[name].isna().sum())
        comparisons += _comparisons(name, seeds[name], higher)
    extra = _extra_figures(records, frame, curve, report.references)
    for name, (table, seed_table, higher) in extra.items():
        report.tables[name] = table
        comparisons += _comparisons(name, seed_table, higher)
    report.tables["head_to_head"] = pd.DataFrame(comparisons)
    report.tables["rank_correlation"] = analysis.rank_correlation(records)
    report.tables["wall_time"] = analysis.wall_time(frame)
    if "regret_at_half" in seeds:
        for fusion in (s for s in store.config.strategies if s.startswith("fusion")):
            report.tables[f"goal:{fusion}"] = fusion_goal(seeds["regret_at_half"], fusion)
    for name, criterion in (("fusion_rf_vs_best_signal", "quality_auc"), ("fusion_rf_vs_best_signal_nll", "nll_auc")):
        if criterion in seeds:
            report.tables[name] = analysis.fusion_versus_best_signal(seeds[criterion], criterion != "nll_auc")
    with output_folder(out, REPORT, overwrite) as tmp:
        (tmp / "tables").mkdir()
        curve.to_csv(tmp / "tables" / "curves.csv", index=False)
        for name, table in report.tables.items():
            table.to_csv(tmp / "tables" / f"{name.replace(':', '_')}.csv", index=name != "head_to_head")
        _counts(report).to_csv(tmp / "tables" / "winner_counts.csv")
        plots.curve_panels(curve, tmp / "curves.png")
        has_distilled = bool(curve["distilled_quality"].notna().any())
        if has_distilled:
            plots.curve_panels(curve, tmp / "curves_distilled.png", ("distilled_quality", "distilled_holdout_nll"))
        plots.rank_heatmaps(analysis.layer_ranks(records), tmp / "layer_ranks.png")
        text = _markdown(store, report, separated, list(extra), has_distilled)
        (tmp / "report.md").write_text(text, encoding="utf-8")
    return report


Criterion = tuple[Callable[..., pd.DataFrame], str, bool]


def _criteria(curve: pd.DataFrame) -> dict[str, Criterion]:
    """Criterion name -> (table function, measure, higher is better)."""
    criteria = {
        "best_quality": (analysis.best_quality, "quality", True),
        "quality_at_half": (analysis.at_half, "quality", True),
        "quality_auc": (analysis.area_under, "quality", True),
        "nll_auc": (analysis.area_under, "holdout_nll", False),
    }
    if curve.loc[curve["step"] >= 1, "quality"].isna().any():  # scored at half the layers only (--quality-steps)
        del criteria["best_quality"], criteria["quality_auc"]
    criteria.update(regret_criteria(curve))
    if curve["distilled_quality"].notna().any() and curve.loc[curve["distilled_quality"].notna(), "step"].nunique() > 1:
        criteria["distilled_quality_auc"] = (analysis.area_under, "distilled_quality", True)
        criteria["distilled_nll_auc"] = (analysis.area_under, "distilled_holdout_nll", False)
    return criteria


def _comparisons(criterion: str, seed_table: pd.DataFrame, higher: bool) -> list[dict[str, Any]]:
    """Long-format rows: every strategy against random, and forest fusion against every strategy."""
    rows = []
    for baseline, first in (("random", False), ("fusion-rf", True)):
        for strategy, c in analysis.versus(seed_table, baseline, higher, baseline_first=first).items():
            a, b = (baseline, strategy) if first else (strategy, baseline)
            rows.append({"criterion": criterion, "table": baseline, "strategy": a, "against": b, "n": c.n,
                         "mean difference": c.mean_difference, "95% CI low": c.low, "95% CI high": c.high,
                         "p (Wilcoxon)": c.p_value, "verdict": c.verdict})
    return rows


def _extra_figures(records: list[dict[str, Any]], frame: pd.DataFrame, curve: pd.DataFrame,
                   reference: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, pd.DataFrame, bool]]:
    """Per figure of the grid's other metrics: its tables at half the layers removed.

    Each figure maps to its table with half the layers removed (strategies, then the teacher and the
    reference), the per-seed table the statistics use, and whether higher is better.
    """
    result = {}
    for figure, (goal, ideal) in analysis.figure_goals(records).items():
        table = analysis.at_half(curve, figure)
        teacher = curve[curve["step"] == 0].groupby("dataset")[figure].mean()
        rows = [table.T, teacher.to_frame("teacher (no layer removed)").T]
        if figure in reference.columns:
            rows.append(reference[figure].to_frame(REFERENCE_ROW).T)
        seed_table = analysis.per_seed(frame, analysis.at_half, figure)
        if goal == "target":  # closest to the ideal is best
            seed_table = (seed_table - ideal).abs()
        result[f"{figure}_at_half"] = (pd.concat(rows), seed_table, goal == "maximize")
    return result


REFERENCE_ROW = "reference (real rows)"
TITLES = {
    "best_quality": "Best quality after removing at least one layer",
    "quality_at_half": "Quality with half the layers removed",
    "quality_auc": "Mean quality along the pruning path (area under the curve / width)",
    "nll_auc": "Mean holdout NLL along the pruning path (lower is better)",
    "distilled_quality_auc": "Mean quality along the path, each step after a short distillation",
    "distilled_nll_auc": "Mean holdout NLL along the path after distillation (lower is better)",
}


VERSUS = (
    ("Head-to-head against random, across data sets and seeds", "random",
     "Verdict of each strategy (row) against random on each criterion (column)"),
    ("Forest fusion against every strategy, across data sets and seeds", "fusion-rf",
     "Verdict of fusion-rf against each strategy (row) on each criterion (column)"),
)


def _counts(report: Report) -> pd.DataFrame:
    counts = pd.DataFrame(report.winners).fillna(0).astype(int)
    return pd.concat([counts, pd.DataFrame([report.ties], index=["tie (no separated winner)"])])


def _verdicts(report: Report, against: str) -> pd.DataFrame:
    """Strategy x criterion: the verdict text of the head-to-head rows against (or by) ``against``."""
    table = report.tables["head_to_head"]
    if table.empty:
        return pd.DataFrame()
    rows = table[table["table"] == against]
    rows = rows.assign(name=rows["strategy"] if against == "random" else rows["against"])
    rows = rows.assign(text=[f"{v} (p={p:.2g}, n={n})" for v, p, n in zip(rows["verdict"], rows["p (Wilcoxon)"],
                                                                           rows["n"], strict=True)])
    return rows.pivot(index="name", columns="criterion", values="text")[list(pd.unique(rows["criterion"]))]


def _markdown(store: ResultStore, report: Report, separated: dict[str, pd.Series], extra: list[str],
              has_distilled: bool) -> str:
    grid = json.loads((store.folder / GRID_FILE).read_text(encoding="utf-8"))
    config = store.config
    lines = ["# Pruning strategy comparison", "",
             f"fuseprune {grid['fuseprune']}, preset `{config.preset}`, data sets: {', '.join(config.datasets)}; "
             f"teacher seeds {', '.join(map(str, config.seeds))}; {len(config.strategies)} strategies; quality from "
             f"{len(config.quality_seeds)} sampling seed(s) per step.", ""]
    if report.missing_cells:
        lines += [f"**Incomplete:** {report.missing_cells} of {len(config.cells())} cells have not finished.", ""]
    lines += [INTRO, "## Winner counts", "",
              "Data sets on which a strategy is best with a lead the paired test over teacher seeds confirms "
              "against every other strategy; the last row counts the data sets where none is.", "",
              markdown_table(_counts(report), "{:d}"), "", *_verdict_sections(report),
              "## Curves", "", "![quality and holdout NLL against layers removed](curves.png)", ""]
    if has_distilled:
        lines += ["![the same after a short distillation at each step](curves_distilled.png)", ""]
    lines += [*goal_sections(report.tables), *_criterion_sections(report, separated), *_extra_sections(report, extra),
              "## Rank correlation with the oracle", "",
              "Spearman correlation of each strategy's ranking of the intact teacher with the measured impact "
              "of removing each layer alone (mean over seeds).", "",
              markdown_table(_with_mean(report.tables["rank_correlation"]).T, "{:.3f}"), "",
              "![removal rank of each layer by each strategy](layer_ranks.png)", "",
              "## Wall time per strategy", "", markdown_table(report.tables["wall_time"], "{:.3f}"), "",
              "Tables as CSV: `tables/`."]
    return "\n".join(lines) + "\n"


def _verdict_sections(report: Report) -> list[str]:
    lines = []
    for title, against, reading in VERSUS:
        verdicts = _verdicts(report, against)
        if not verdicts.empty:
            lines += [f"## {title}", "", f"{reading} (p: Wilcoxon signed-rank; n: (data set, seed) pairs). "
                      "Differences with their bootstrap intervals: `tables/head_to_head.csv`.", "",
                      markdown_table(verdicts, "{}"), ""]
    return lines


def _criterion_sections(report: Report, separated: dict[str, pd.Series]) -> list[str]:
    """Each criterion's table (a separated winner in bold, the quality reference below) and fusion's verdicts."""
    lines = []
    for name in report.winners:
        table = _with_mean(report.tables[name]).T
        if "quality" in name and "quality" in report.references.columns:
            reference = report.references["quality"]
            table.loc[REFERENCE_ROW] = [*reference.reindex(table.columns[:-1]), reference.mean()]
        winners = separated[name]
        lines += [
            f"## {TITLES.get(name) or REGRET_TITLES[name]}",
            "",
            "A separated winner per data set in bold (none: a tie); the last column is the mean over data sets.",
            "",
            markdown_table(table, "{:.4f}", bold=_won_by(winners)),
            "",
        ]
    for name, title in (("fusion_rf_vs_best_signal", "quality AUC"), ("fusion_rf_vs_best_signal_nll", "NLL AUC")):
        table = report.tables.get(name, pd.DataFrame())
        if not table.empty:
            lines += [f"## Forest fusion against the best single signal ({title})", "",
                      "The signal with the best mean on each data set, chosen after the fact (which favours it); "
                      "the verdict pairs the teacher seeds.", "", markdown_table(table, "{:.4f}"), ""]
    return lines


def _extra_sections(report: Report, extra: list[str]) -> list[str]:
    if not extra:
        return []
    lines = ["## Other metrics with half the layers removed", "",
             "Means over teacher seeds; `teacher` is the intact model, `reference` real training rows "
             "(or other real rows, for privacy) in the generator's place. Their verdicts against random "
             "and forest fusion are in the head-to-head tables above.", ""]
    for name in extra:
        lines += [f"### {figure_label(name.removesuffix('_at_half'))}", "",
                  markdown_table(report.tables[name], "{:.4f}"), ""]
    return lines


def _with_mean(table: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([table, table.mean().to_frame("mean").T])


def _won_by(winners: pd.Series) -> Callable[[Any, Any], bool]:
    """``bold(strategy, dataset)`` for :func:`_table`: whether ``strategy`` is the data set's separated winner."""
    return lambda strategy, dataset: bool(winners.get(dataset) == strategy)


def markdown_table(table: pd.DataFrame, number: str, bold: Callable[[Any, Any], bool] | None = None,
                   corner: str = "") -> str:
    """A markdown table of ``table``, its index first (headed ``corner``); ``bold(row, column)`` marks cells.

    Numbers take the ``number`` format, booleans read yes/no and NaN a dash.
    """
    header = [corner, *map(str, table.columns)]
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
