"""Fusion as pruning strategies: ``fusion-lr`` and ``fusion-rf`` rank layers by predicted impact.

A fusion strategy scores the model with the signals its bank holds, and its
fitted model predicts each layer's impact; the lowest goes first. By default
it is fitted on the bank shipped with fuseprune.

Leakage guard: a model whose own rows are in the bank (recognised by its
weights hash) would be ranked by a fusion that has seen its answers. That is
refused unless the model's data set is excluded from the fit
(``exclude_datasets``) or the user allows it explicitly (``allow_overlap``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from torch import nn

from fuseprune.errors import DataError
from fuseprune.fusion.bank import FusionBank
from fuseprune.fusion.base import FusionBase
from fuseprune.fusion.forest import ForestFusion
from fuseprune.fusion.linear import LinearFusion
from fuseprune.pruning.fingerprint import weights_sha256
from fuseprune.pruning.strategies import RankContext, Ranking, Strategy, register_strategy
from fuseprune.scoring import score_layers

log = logging.getLogger(__name__)
DEFAULT_BANK = Path(__file__).with_name("default_bank.csv")


class FusionStrategy(Strategy):
    """Rank layers by a fusion model's predicted impact.

    Args:
        bank: Bank CSV to fit on (default: the bank shipped with fuseprune).
        exclude_datasets: Data sets whose rows are left out of the fit (leave-one-dataset-out).
        allow_overlap: Rank a model even if its own rows are in the fitted bank.
    """

    estimator: ClassVar[type[FusionBase]] = FusionBase
    description = "predicted impact from all signals, fitted on a fusion bank"

    def __init__(self, bank: str | Path | None = None, exclude_datasets: Sequence[str] = (), allow_overlap: bool = False) -> None:
        self.bank = bank
        self.exclude_datasets = tuple(exclude_datasets)
        self.allow_overlap = allow_overlap
        self._fitted: tuple[FusionBank, FusionBase] | None = None

    def fitted(self) -> tuple[FusionBank, FusionBase]:
        """The bank (after exclusions) and the fusion model fitted on it, built once."""
        if self._fitted is None:
            bank = FusionBank.load(self.bank or DEFAULT_BANK)
            for dataset in self.exclude_datasets:
                bank = bank.without(dataset)
            if len(bank.frame) == 0:
                raise DataError(f"no bank rows are left after excluding {', '.join(self.exclude_datasets)}.")
            self._fitted = bank, self.estimator().fit(bank)
        return self._fitted

    def rank(self, model: nn.Module, batches: Iterable[Mapping[str, Any]], context: RankContext) -> Ranking:
        """Score ``model`` with the bank's signals and rank its layers by predicted impact."""
        bank, fusion = self.fitted()
        self._guard(bank, model)
        table = score_layers(model, batches, fusion.signal_names_in_, seed=context.seed, loss_fn=context.loss_fn,
                             layers=context.layers, progress=context.progress)
        predicted = tuple(float(v) for v in fusion.predict(table, context.removed_fraction))
        return Ranking(keep=predicted, signal_scores={s.name: s.keep for s in table}, fused=predicted,
                       predicted_impact=predicted)

    def _guard(self, bank: FusionBank, model: nn.Module) -> None:
        if self.allow_overlap or not bank.contains_model(weights_sha256(model.state_dict())):
            return
        datasets = sorted(set(bank.frame.loc[bank.frame["model_sha256"] == weights_sha256(model.state_dict()), "dataset"]))
        raise DataError(
            f"this model's own rows are in the fusion bank (data set {', '.join(datasets)}), so the fusion has seen "
            f"its answers; exclude them (--exclude-bank-dataset {datasets[0]}) or allow it (--allow-bank-overlap)."
        )

    def parameters(self) -> dict[str, Any]:
        """What the plan records about this strategy."""
        return {"bank": str(self.bank or DEFAULT_BANK.name), "exclude_datasets": list(self.exclude_datasets),
                "allow_overlap": self.allow_overlap}


@register_strategy("fusion-lr")
class LinearFusionStrategy(FusionStrategy):
    """Linear fusion of all signals."""

    estimator = LinearFusion
    description = "linear regression from all signals to a layer's impact"


@register_strategy("fusion-rf")
class ForestFusionStrategy(FusionStrategy):
    """Random-forest fusion of all signals."""

    estimator = ForestFusion
    description = "random forest from all signals to a layer's impact"


FUSION_STRATEGIES = {"fusion-lr": LinearFusionStrategy, "fusion-rf": ForestFusionStrategy}
