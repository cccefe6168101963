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

Claims are statistical (:mod:`fuseprune.compare.stats`): a strategy wins a
data set only when a paired test over teacher seeds separates it from every
other strategy, and a head-to-head verdict across data sets pairs the values of
each (data set, seed); anything else is a tie. Winner counts leave out
``ablation``: it is the oracle itself (it measures the loss of every
candidate), shown for reference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fuseprune.compare.stats import PairedComparison, paired_comparison
from fuseprune.compare.subset_tables import Tables
from fuseprune.errors import DataError
from fuseprune.fusion.bank import spearman
from fuseprune.pruning.registry import registered_strategies
from fuseprune.pruning.subsets import regret_of
from fuseprune.scoring import list_signals

REFERENCE = "ablation"
#: The oracles (they measure the loss of every candidate): shown for reference, never counted as winners.
ORACLES = (REFERENCE, "exhaustive")
#: measure -> True if higher is better.
MEASURES = {"quality": True, "holdout_nll": False, "diagnostic": True}
#: Columns of a ``--regret`` grid -> True if higher is better.
REGRET = {"regret": False, "regret_percentile": False, "distilled_regret": False}


def steps_frame(records: Sequence[dict[str, Any]], tables: Tables | None = None) -> pd.DataFrame:
    """One row per step record: the cell, the step and the measures of the state.

    Figures of the grid's other metrics (``state["metrics"]``) become columns of
    their own, named by the figure; their references (measured at step 0) are
    in :func:`references`. With subset ``tables`` (a ``--regret`` grid) each row
    also gets ``regret`` and ``regret_percentile`` among every subset of its size,
    and ``distilled_regret`` where it was distilled (see :func:`regret_columns`).
    """
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
        for name, figure in state.get("metrics", {}).items():
            row[name] = np.nan if figure["mean"] is None else figure["mean"]
        rows.append(row)
    frame = pd.DataFrame(rows)
    return regret_columns(frame, records, tables) if tables else frame


def regret_columns(frame: pd.DataFrame, records: Sequence[dict[str, Any]], tables: Tables) -> pd.DataFrame:
    """``frame`` with each step's regret among every subset of its size (NaN where no table covers it).

    ``regret`` and ``regret_percentile`` read the ``holdout`` table (no healing; the
    intact teacher has 0). ``distilled_regret`` reads the distilled students of the
    ``distilled`` table together with every cell's distilled student of the same
    teacher and step (the same recipe), so a choice is placed among all of them.
    """
    pools: dict[tuple[str, int, int], dict[tuple[int, ...], float]] = {}
    for r in records:
        nll = r["state"].get("distilled", {}).get("holdout_nll")
        if nll is not None:
            pool = pools.setdefault((r["dataset"], r["seed"], r["step"]), {})
            pool[tuple(sorted(r["removed"]))] = float(nll)
    for (dataset, seed), kinds in tables.items():
        for subset, nll in kinds.get("distilled", {}).items():
            pools.setdefault((dataset, seed, len(subset)), {})[subset] = nll
    columns: dict[str, list[float]] = {"regret": [], "regret_percentile": [], "distilled_regret": []}
    for r in records:
        removed = tuple(sorted(r["removed"]))
        holdout = tables.get((r["dataset"], r["seed"]), {}).get("holdout", {})
        place = regret_of(holdout, removed) if removed in holdout else None
        zero = not removed
        columns["regret"].append(0.0 if zero else place.regret if place else np.nan)
        columns["regret_percentile"].append(0.0 if zero else place.percentile if place else np.nan)
        pool = pools.get((r["dataset"], r["seed"], r["step"]), {})
        healed = removed in pool and "distilled" in r["state"] and len(pool) > 1
        columns["distilled_regret"].append(regret_of(pool, removed).regret if healed else np.nan)
    return frame.assign(**columns)


def figure_goals(records: Sequence[dict[str, Any]]) -> dict[str, tuple[str, float | None]]:
    """Figure name -> (goal, ideal) of every figure of the grid's other metrics, in first-seen order."""
    goals: dict[str, tuple[str, float | None]] = {}
    for r in records:
        for name, figure in r["state"].get("metrics", {}).items():
            goals.setdefault(name, (figure["goal"], figure["ideal"]))
    return goals


def references(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Data set x figure: the reference (real rows in the generator's place), mean over seeds, from step 0."""
    rows = [{"dataset": r["dataset"], "seed": r["seed"], "figure": name, "reference": figure["reference"]}
            for r in records if r["step"] == 0
            for name, figure in r["state"].get("metrics", {}).items() if figure.get("reference") is not None]
    rows += [{"dataset": r["dataset"], "seed": r["seed"], "figure": "quality", "reference": r["state"]["ceiling"]}
             for r in records if r["step"] == 0 and r["state"].get("ceiling") is not None]
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows).drop_duplicates(["dataset", "seed", "figure"])
    return frame.pivot_table(index="dataset", columns="figure", values="reference", aggfunc="mean")


def curves(frame: pd.DataFrame) -> pd.DataFrame:
    """Seed means per (data set, strategy, step) of every measure."""
    columns = [c for c in frame.columns if c not in ("dataset", "seed", "strategy", "step")]
    return frame.groupby(["dataset", "strategy", "step"], sort=True)[columns].mean().reset_index()


def best_quality(curve: pd.DataFrame, measure: str = "quality") -> pd.DataFrame:
    """Data set x strategy: the best seed-mean value after at least one layer is removed."""
    pruned = curve[curve["step"] >= 1]
    best = "max" if {**MEASURES, **REGRET}[measure.removeprefix("distilled_")] else "min"
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

    values = curve.groupby(["dataset", "strategy"])[["step", measure]].apply(area).rename(measure)
    return values.reset_index().pivot(index="dataset", columns="strategy", values=measure)


def per_seed(frame: pd.DataFrame, table: Callable[..., pd.DataFrame], measure: str = "quality") -> pd.DataFrame:
    """(data set, seed) x strategy: ``table`` (best_quality, at_half or area_under) of each teacher seed alone."""
    parts = {seed: table(group, measure) for seed, group in frame.groupby("seed")}
    stacked = pd.concat(parts, names=["seed", "dataset"])
    return stacked.reorder_levels(["dataset", "seed"]).sort_index()


def separated_winners(seed_table: pd.DataFrame, higher_is_better: bool) -> pd.Series:
    """Per data set: the strategy with the best seed mean if it is separated from every other strategy.

    Separated means a paired test over the seeds tells it apart from each other strategy (the oracle
    left out); data sets without such a strategy get None (a tie).
    """
    contenders = seed_table.drop(columns=list(ORACLES), errors="ignore")
    result: dict[Any, str | None] = {}
    for dataset, rows in contenders.groupby(level="dataset", sort=True):
        means = rows.mean().dropna()
        if len(means) < 2:
            result[dataset] = None
            continue
        best = means.idxmax() if higher_is_better else means.idxmin()
        separated = all(paired_comparison(rows[best], rows[other], higher_is_better).verdict == "better"
                        for other in means.index if other != best)
        result[dataset] = best if separated else None
    return pd.Series(result, dtype=object)


def winner_counts(winners: pd.Series, strategies: Iterable[str]) -> pd.Series:
    """Data sets each strategy won (separated winners only; the oracle left out), most first."""
    counts = pd.Series(0, index=[s for s in strategies if s not in ORACLES], dtype=int)
    for strategy in winners.dropna():
        counts[strategy] += 1
    return counts.sort_values(ascending=False, kind="stable")


def versus(seed_table: pd.DataFrame, baseline: str, higher_is_better: bool, *,
           baseline_first: bool = False) -> dict[str, PairedComparison]:
    """Every strategy against ``baseline``, paired by (data set, seed) across all data sets.

    With ``baseline_first``, the baseline against every strategy instead. Keyed by the other strategy.
    """
    if baseline not in seed_table.columns:
        return {}
    result = {}
    for strategy in seed_table.columns:
        if strategy != baseline:
            first, second = (baseline, strategy) if baseline_first else (strategy, baseline)
            result[strategy] = paired_comparison(seed_table[first], seed_table[second], higher_is_better)
    return result


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
                  "rank": rank} for layer, rank in zip(r["kept"], ranks, strict=True)]
        oracle = _removal_ranks(r["state"]["oracle_impact"])
        rows += [{"dataset": r["dataset"], "seed": r["seed"], "strategy": "oracle", "layer": layer, "rank": rank}
                 for layer, rank in zip(r["kept"], oracle, strict=True)]
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


def fusion_versus_best_signal(seed_table: pd.DataFrame, higher_is_better: bool,
                              fusion: str = "fusion-rf") -> pd.DataFrame:
    """Per data set: the fusion against the best single signal.

    Columns: the fusion's seed mean, the single signal with the best seed mean, its value and the
    fusion's verdict against it over the seeds (better, worse or tie).
    """
    signals = [s for s in list_signals() if s in seed_table.columns]
    if fusion not in seed_table.columns or not signals:
        return pd.DataFrame()
    rows = []
    for dataset, group in seed_table.groupby(level="dataset", sort=True):
        means = group[signals].mean().dropna()
        if means.empty:
            continue
        best = means.idxmax() if higher_is_better else means.idxmin()
        verdict = paired_comparison(group[fusion], group[best], higher_is_better)
        rows.append({"dataset": dataset, fusion: group[fusion].mean(), "best single signal": best,
                     "its value": means[best], f"{fusion} vs it": verdict.text()})
    return pd.DataFrame(rows).set_index("dataset")


def highlighted(curve: pd.DataFrame, dataset: str) -> list[str]:
    """Strategies drawn in colour for ``dataset``.

    They are the registered ones beyond single signals (fusions), the oracle, random and the best single signal.
    """
    table = area_under(curve[curve["dataset"] == dataset])
    signals = [s for s in list_signals() if s in table.columns]
    best = [str(table.loc[dataset, signals].idxmax())] if signals else []
    return [s for s in dict.fromkeys((*registered_strategies(), *ORACLES, "random", *best)) if s in table.columns]
