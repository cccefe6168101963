"""The numbers of a comparison report, computed from the step records (pandas only, no plotting).

Every table averages over teacher seeds first, so each (data set, strategy)
gets one curve: quality (or holdout NLL) against layers removed.

- best quality: the highest seed-mean quality a strategy reaches after removing
  at least one layer (the shape of Table 1 of the Strategic Fusion study);
- quality at half: the seed-mean quality with half the layers removed;
- AUC: the area under the curve from 0 to L-1 layers removed, divided by its
  width, i.e. the mean quality (or NLL) along the whole pruning path;
- rank correlation: Spearman correlation of a strategy's ranking of the intact
  teacher with the oracle's (the measured holdout-loss increase of removing
  each layer alone), averaged over seeds;
- wall time: seconds a strategy spends ranking, per ranking and per cell.

Winner counts leave out ``ablation``: it is the oracle itself (it measures
the loss of every candidate), shown for reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fuseprune.compare.grid import FUSION
from fuseprune.errors import DataError
from fuseprune.fusion.bank import spearman
from fuseprune.scoring import list_signals

REFERENCE = "ablation"
#: measure -> True if higher is better.
MEASURES = {"quality": True, "holdout_nll": False, "diagnostic": True}


def steps_frame(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per step record: the cell, the step and the measures of the state."""
    if not records:
        raise DataError("the results store holds no finished steps yet; run `fuseprune compare` first.")
    rows = []
    for r in records:
        state = r["state"]
        row = {"dataset": r["dataset"], "seed": r["seed"], "strategy": r["strategy"], "step": r["step"],
               "layers": r["layers"], "rank_seconds": r["rank_seconds"] if r["next"] is not None else np.nan,
               **{m: state[m] for m in (*MEASURES, "parameters", "rows_per_second")}}
        for m in MEASURES:
            row[f"distilled_{m}"] = state.get("distilled", {}).get(m, np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def curves(frame: pd.DataFrame) -> pd.DataFrame:
    """Seed means per (data set, strategy, step) of every measure."""
    columns = [c for c in frame.columns if c not in ("dataset", "seed", "strategy", "step")]
    return frame.groupby(["dataset", "strategy", "step"], sort=True)[columns].mean().reset_index()


def best_quality(curve: pd.DataFrame, measure: str = "quality") -> pd.DataFrame:
    """Data set x strategy: the best seed-mean value after at least one layer is removed."""
    pruned = curve[curve["step"] >= 1]
    best = "max" if MEASURES[measure.removeprefix("distilled_")] else "min"
    return pruned.pivot_table(index="dataset", columns="strategy", values=measure, aggfunc=best)


def at_half(curve: pd.DataFrame, measure: str = "quality") -> pd.DataFrame:
    """Data set x strategy: the seed-mean value with half the layers (rounded down) removed."""
    half = curve.groupby("dataset")["layers"].transform("max") // 2
    return curve[curve["step"] == half].pivot_table(index="dataset", columns="strategy", values=measure)


def area_under(curve: pd.DataFrame, measure: str = "quality") -> pd.DataFrame:
    """Data set x strategy: the mean of the curve over layers removed (trapezoid area / width)."""
    def area(group: pd.DataFrame) -> float:
        group = group.dropna(subset=[measure]).sort_values("step")
        x, y = group["step"].to_numpy(float), group[measure].to_numpy(float)
        if len(x) < 2:
            return float("nan")
        return float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)) / (x[-1] - x[0]))

    values = curve.groupby(["dataset", "strategy"]).apply(area, include_groups=False).rename(measure)
    return values.reset_index().pivot(index="dataset", columns="strategy", values=measure)


def winners(table: pd.DataFrame, higher_is_better: bool) -> pd.Series:
    """How many data sets each strategy wins in ``table`` (ties count for every tied strategy; oracle left out)."""
    contenders = table.drop(columns=[REFERENCE], errors="ignore")
    best = contenders.max(axis=1) if higher_is_better else contenders.min(axis=1)
    wins = contenders.apply(lambda column: np.isclose(column, best, rtol=0, atol=1e-12) & column.notna())
    return wins.sum().astype(int).sort_values(ascending=False)


def rank_correlation(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Data set x strategy: Spearman correlation of the step-0 ranking with the oracle, mean over seeds."""
    rows = []
    for r in records:
        if r["step"] != 0 or r["keep"] is None:
            continue
        # keep scores and the oracle's impacts point the same way: the higher, the more the layer matters
        rows.append({"dataset": r["dataset"], "seed": r["seed"], "strategy": r["strategy"],
                     "spearman": spearman(r["keep"], r["state"]["oracle_impact"])})
    frame = pd.DataFrame(rows)
    return frame.pivot_table(index="dataset", columns="strategy", values="spearman", aggfunc="mean")


def layer_ranks(records: Sequence[dict[str, Any]]) -> dict[str, pd.DataFrame]:
    """Per data set, strategy x layer: the removal rank each strategy gives each layer of the intact teacher.

    Rank 1 is removed first; ranks are averaged over seeds. The oracle row ranks by
    measured impact.
    """
    rows = []
    for r in records:
        if r["step"] != 0 or r["keep"] is None:
            continue
        ranks = _removal_ranks(r["keep"])
        rows += [{"dataset": r["dataset"], "seed": r["seed"], "strategy": r["strategy"], "layer": layer,
                  "rank": rank} for layer, rank in zip(r["kept"], ranks)]
        oracle = _removal_ranks(r["state"]["oracle_impact"])
        rows += [{"dataset": r["dataset"], "seed": r["seed"], "strategy": "oracle", "layer": layer, "rank": rank}
                 for layer, rank in zip(r["kept"], oracle)]
    frame = pd.DataFrame(rows).drop_duplicates(["dataset", "seed", "strategy", "layer"])
    return {dataset: group.pivot_table(index="strategy", columns="layer", values="rank", aggfunc="mean")
            for dataset, group in frame.groupby("dataset")}


def _removal_ranks(keep: Sequence[float]) -> list[int]:
    """1 for the layer with the lowest keep score (removed first); ties go to the later layer first."""
    order = sorted(range(len(keep)), key=lambda i: (keep[i], -i))
    ranks = [0] * len(keep)
    for rank, layer in enumerate(order, 1):
        ranks[layer] = rank
    return ranks


def wall_time(frame: pd.DataFrame) -> pd.DataFrame:
    """Per strategy: mean seconds per ranking and per cell (all rankings of one pruning path)."""
    per_cell = frame.groupby(["dataset", "seed", "strategy"])["rank_seconds"].sum().groupby("strategy").mean()
    per_rank = frame.groupby("strategy")["rank_seconds"].mean()
    return pd.DataFrame({"seconds per ranking": per_rank, "seconds per cell": per_cell}).sort_values(
        "seconds per cell")


def fusion_versus_best_signal(table: pd.DataFrame, higher_is_better: bool, fusion: str = "fusion-rf") -> pd.DataFrame:
    """Per data set: the fusion's value, the best single signal and its value, and whether the fusion wins."""
    signals = [s for s in list_signals() if s in table.columns]
    if fusion not in table.columns or not signals:
        return pd.DataFrame()
    rows = []
    for dataset, row in table.iterrows():
        values = row[signals].dropna()
        if values.empty:
            continue
        best = values.idxmax() if higher_is_better else values.idxmin()
        beats = row[fusion] >= values[best] if higher_is_better else row[fusion] <= values[best]
        rows.append({"dataset": dataset, fusion: row[fusion], "best single signal": best,
                     "its value": values[best], f"{fusion} at least as good": bool(beats)})
    return pd.DataFrame(rows).set_index("dataset")


def highlighted(curve: pd.DataFrame, dataset: str) -> list[str]:
    """Strategies drawn in colour for ``dataset``: fusions, the oracle, random and the best single signal."""
    table = area_under(curve[curve["dataset"] == dataset])
    signals = [s for s in list_signals() if s in table.columns]
    best = [table.loc[dataset, signals].idxmax()] if signals else []
    return [s for s in (*FUSION, REFERENCE, "random", *best) if s in table.columns]
