"""The regret part of a comparison report: its criteria, and each fusion against the best signal and ``tail``.

Regret (see :mod:`fuseprune.pruning.subsets`) places a strategy's removed
layers among every subset of the same size: 0 is the best subset, 1 the worst.
The issue that introduced it set a goal for fusion: a lower regret with half
the layers removed than both the best single signal and ``tail`` (the
remove-the-last-layers baseline) on at least seven of nine data sets.
:func:`fusion_goal` reports that, per data set and fusion strategy, with the
paired verdicts over teacher seeds beside the means.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from fuseprune.compare import analysis
from fuseprune.compare.stats import paired_comparison
from fuseprune.scoring import list_signals

Criterion = tuple[Callable[..., pd.DataFrame], str, bool]

TITLES = {
    "regret_at_half": "Regret with half the layers removed, no healing (0 = best subset, 1 = worst; lower is better)",
    "regret_auc": "Mean regret along the pruning path, no healing (lower is better)",
    "regret_percentile_at_half": "Share of the subsets that do better, half the layers removed (lower is better)",
    "distilled_quality_at_half": "Quality with half the layers removed, after a short distillation",
    "distilled_nll_at_half": "Holdout NLL with half the layers removed, after a short distillation (lower is better)",
    "distilled_regret_at_half": "Regret with half the layers removed after a short distillation, among the "
                                "distilled reference subsets and every strategy's (lower is better)",
}


def regret_criteria(curve: pd.DataFrame) -> dict[str, Criterion]:
    """Criterion name -> (table function, measure, higher is better) of a ``--regret`` grid's curve."""
    criteria: dict[str, Criterion] = {}
    if "regret" in curve.columns and curve["regret"].notna().any():
        criteria["regret_at_half"] = (analysis.at_half, "regret", False)
        criteria["regret_auc"] = (analysis.area_under, "regret", False)
        criteria["regret_percentile_at_half"] = (analysis.at_half, "regret_percentile", False)
    distilled_steps = curve.loc[curve["distilled_quality"].notna(), "step"].nunique()
    if distilled_steps == 1:  # distilled with half the layers removed only (--distill-steps half)
        criteria["distilled_quality_at_half"] = (analysis.at_half, "distilled_quality", True)
        criteria["distilled_nll_at_half"] = (analysis.at_half, "distilled_holdout_nll", False)
        if "distilled_regret" in curve.columns and curve["distilled_regret"].notna().any():
            criteria["distilled_regret_at_half"] = (analysis.at_half, "distilled_regret", False)
    return criteria


def fusion_goal(seed_table: pd.DataFrame, fusion: str) -> pd.DataFrame:
    """Per data set: ``fusion``'s seed-mean value against the best single signal's and ``tail``'s (lower is better).

    The best single signal is the one with the lowest seed mean on that data set,
    chosen after the fact (which favours it). ``goal met`` is True where the
    fusion's mean is below both; the verdicts pair the teacher seeds.
    """
    signals = [s for s in list_signals() if s in seed_table.columns]
    if fusion not in seed_table.columns or not signals or "tail" not in seed_table.columns:
        return pd.DataFrame()
    rows = []
    for dataset, group in seed_table.groupby(level="dataset", sort=True):
        means = group[signals].mean().dropna()
        if means.empty or group[fusion].isna().all():
            continue
        best = str(means.idxmin())
        mine, tail = group[fusion].mean(), group["tail"].mean()
        rows.append({"dataset": dataset, fusion: mine, "best single signal": best, "its value": means[best],
                     "tail": tail, "goal met": bool(mine < means[best] and mine < tail),
                     "vs best signal": paired_comparison(group[fusion], group[best], False).text(),
                     "vs tail": paired_comparison(group[fusion], group["tail"], False).text()})
    return pd.DataFrame(rows).set_index("dataset") if rows else pd.DataFrame()


def goal_sections(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Markdown: each fusion's goal table (name ``goal:<fusion>``) with its count of data sets met."""
    lines: list[str] = []
    for name, table in tables.items():
        if not name.startswith("goal:") or table.empty:
            continue
        fusion = name.removeprefix("goal:")
        met = int(table["goal met"].sum())
        lines += [f"## {fusion}: regret with half the layers removed against the best single signal and tail", "",
                  f"Goal (issue 15): below both on at least 7 of 9 data sets. **Met on {met} of {len(table)}.** "
                  "Means over teacher seeds; verdicts pair the seeds (a tie unless the interval separates them).",
                  "", _goal_table(table, fusion), ""]
    return lines


def _goal_table(table: pd.DataFrame, fusion: str) -> str:
    header = ["data set", fusion, "best single signal", "its value", "tail", "goal met", "vs best signal", "vs tail"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for dataset, row in table.iterrows():
        lines.append(f"| {dataset} | {row[fusion]:.3f} | {row['best single signal']} | {row['its value']:.3f} | "
                     f"{row['tail']:.3f} | {'yes' if row['goal met'] else 'no'} | {row['vs best signal']} | "
                     f"{row['vs tail']} |")
    return "\n".join(lines)
