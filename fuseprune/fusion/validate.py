"""Leave-one-dataset-out validation: is a fused ranking closer to the oracle than single signals?

For each data set, both fusion models are fitted on the OTHER data sets' rows
and rank that data set's layers; every strategy's ranking of every model
state is compared with the oracle (measured impact) by Spearman rank
correlation and by top-1 agreement (does it pick the same layer to remove
next as the oracle, by the tie rule of every removal path?).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fuseprune.errors import DataError
from fuseprune.fusion.bank import TARGET, FusionBank, spearman
from fuseprune.fusion.strategy import (
    FUSION_STRATEGIES,
    ForestFusionStrategy,
    LinearFusionStrategy,
)
from fuseprune.pruning.targets import removal_ranking

#: Strategy name -> the estimator it fits, for every fusion strategy.
FUSIONS = {strategy.name: strategy.estimator for strategy in FUSION_STRATEGIES}


@dataclass(frozen=True)
class ValidationResult:
    """Per (data set, strategy): mean Spearman with the oracle and top-1 agreement over model states."""

    table: pd.DataFrame  # columns: dataset, strategy, spearman, top1, states

    def pivot(self, measure: str = "spearman") -> pd.DataFrame:
        """Strategies x data sets, plus a ``mean`` column, sorted by the mean (best first)."""
        wide = self.table.pivot(index="strategy", columns="dataset", values=measure)
        wide["mean"] = wide.mean(axis=1)
        return wide.sort_values("mean", ascending=False)

    def summary(self) -> dict[str, Any]:
        """Headline figures: mean Spearman of forest, linear, random, the average and the best single signal."""
        forest, linear = ForestFusionStrategy.name, LinearFusionStrategy.name
        means = self.pivot()["mean"]
        singles = means.drop(index=[*FUSIONS, "random"], errors="ignore")
        wide = self.pivot()
        per_dataset_best = wide.drop(index=[*FUSIONS, "random"], errors="ignore").drop(columns="mean")
        rf = wide.loc[forest].drop("mean")
        return {
            forest: float(means[forest]), linear: float(means[linear]),
            "random": float(means["random"]), "average_single_signal": float(singles.mean()),
            "best_single_signal": str(singles.idxmax()), "best_single_signal_spearman": float(singles.max()),
            f"{forest}_beats_best_single_on": [d for d in rf.index if rf[d] > per_dataset_best[d].max()],
        }

    def __rich__(self) -> Any:
        from rich.table import Table

        wide, top1 = self.pivot(), self.pivot("top1")
        table = Table(
            title="leave-one-dataset-out: Spearman with the ablation oracle (mean over model states); top-1 agreement"
        )
        table.add_column("strategy")
        for column in wide.columns:
            table.add_column(str(column), justify="right")
        table.add_column("top-1", justify="right")
        agreement = top1["mean"].to_dict()
        for strategy, row in wide.iterrows():
            name = str(strategy)
            style = "bold" if name in FUSIONS else None
            table.add_row(name, *(f"{v:+.3f}" for v in row), f"{agreement[strategy]:.2f}", style=style)
        return table


def validate(bank: FusionBank, seed: int = 0) -> ValidationResult:
    """Run leave-one-dataset-out validation of every strategy on ``bank``."""
    if len(bank.datasets) < 2:
        raise DataError(
            f"leave-one-dataset-out validation needs rows from at least 2 data sets; the bank has {bank.datasets}."
        )
    rows = []
    for dataset in bank.datasets:
        rest = bank.without(dataset)
        fitted = {name: cls().fit(rest) for name, cls in FUSIONS.items()}
        rows += _score_dataset(bank.only([dataset]), fitted, np.random.default_rng(seed))
    frame = pd.DataFrame(rows)
    table = frame.groupby(["dataset", "strategy"], as_index=False).agg(
        spearman=("spearman", "mean"), top1=("top1", "mean"), states=("spearman", "size")
    )
    return ValidationResult(table)


def _next(keep: np.ndarray) -> int:
    """The position a removal path takes next (lowest keep score; on a tie the later layer)."""
    return removal_ranking(list(keep), range(len(keep)))[0]


def _score_dataset(bank: FusionBank, fitted: dict[str, Any], rng: np.random.Generator) -> list[dict[str, Any]]:
    rows = []
    for (dataset, _, _), state in bank.states():
        if len(state) < 2:
            continue
        oracle = state[TARGET].to_numpy()
        rankings = {name: state[name].to_numpy() for name in bank.signals}
        rankings["random"] = rng.random(len(state))
        rankings.update({name: model.predict(state) for name, model in fitted.items()})
        for strategy, keep in rankings.items():
            rows.append({
                "dataset": dataset, "strategy": strategy, "spearman": spearman(list(keep), list(oracle)),
                "top1": float(_next(keep) == _next(oracle)),
            })
    return rows
