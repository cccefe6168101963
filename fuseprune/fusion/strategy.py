"""Fusion as pruning strategies: ``fusion-lr`` and ``fusion-rf`` rank layers by predicted impact.

A fusion strategy scores the model with the signals its bank holds, and its
fitted model predicts each layer's impact; the lowest goes first. By default
it is fitted on the bank shipped with fuseprune. Its options
(:class:`FusionOptions`): ``bank``, ``exclude_datasets``, ``allow_overlap``.

Both are declared in the ``fuseprune.strategies`` entry-point group of
``pyproject.toml``, which the strategy registry reads on its first lookup.

Leakage guard: a model whose own rows are in the bank (recognised by its
weights hash) would be ranked by a fusion that has seen its answers. That is
refused unless the model's data set is excluded from the fit
(``exclude_datasets``) or the user allows it explicitly (``allow_overlap``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from torch import nn

from fuseprune.errors import ConfigError, DataError
from fuseprune.fusion.bank import FusionBank
from fuseprune.fusion.base import FusionBase
from fuseprune.fusion.forest import ForestFusion
from fuseprune.fusion.linear import LinearFusion
from fuseprune.pruning.fingerprint import weights_sha256
from fuseprune.pruning.strategies import RankContext, Ranking, Strategy, StrategyOptions
from fuseprune.scoring import score_layers

log = logging.getLogger(__name__)
DEFAULT_BANK = Path(__file__).with_name("default_bank.csv")


@dataclass(frozen=True)
class FusionOptions(StrategyOptions):
    """Options of the fusion strategies: which bank rows the fusion is fitted on."""

    bank: str = field(default="", metadata={"help": "bank CSV the fusion is fitted on (empty = the shipped bank)"})
    exclude_datasets: tuple[str, ...] = field(
        default=(), metadata={"help": "data sets whose bank rows are left out of the fit (leave-one-dataset-out)"}
    )
    allow_overlap: bool = field(
        default=False, metadata={"help": "rank a model even if its own rows are in the fitted bank"}
    )

    def __post_init__(self) -> None:
        bank: object = "" if self.bank is None else self.bank
        if isinstance(bank, os.PathLike):
            bank = os.fspath(bank)
        if not isinstance(bank, str):
            raise ConfigError(f"`bank` must be the path of a bank CSV file (empty = the shipped bank); got {bank!r}.")
        excluded: object = self.exclude_datasets
        excluded = (excluded,) if isinstance(excluded, str) else excluded
        if not isinstance(excluded, list | tuple) or not all(isinstance(d, str) and d for d in excluded):
            raise ConfigError(f"`exclude_datasets` must be a list of data set names; got {self.exclude_datasets!r}.")
        if not isinstance(self.allow_overlap, bool):
            raise ConfigError(f"`allow_overlap` must be true or false; got {self.allow_overlap!r}.")
        object.__setattr__(self, "bank", bank)
        object.__setattr__(self, "exclude_datasets", tuple(excluded))


class FusionStrategy(Strategy):
    """Rank layers by a fusion model's predicted impact (options: :class:`FusionOptions`)."""

    estimator: ClassVar[type[FusionBase]] = FusionBase
    description = "predicted impact from all signals, fitted on a fusion bank"
    #: The kind of bank file its ``bank`` option takes (a comparison's ``--bank`` goes to "fusion" ones only).
    bank_format: ClassVar[str] = "fusion"
    options_class = FusionOptions
    options: FusionOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._fitted: tuple[FusionBank, FusionBase] | None = None

    def prepare(self) -> None:
        """Fit the fusion now: an unreadable bank or one left empty by the exclusions is refused here."""
        self.fitted()

    def fitted(self) -> tuple[FusionBank, FusionBase]:
        """The bank (after exclusions) and the fusion model fitted on it, built once."""
        if self._fitted is None:
            bank = FusionBank.load(self.options.bank or DEFAULT_BANK)
            for dataset in self.options.exclude_datasets:
                bank = bank.without(dataset)
            if len(bank.frame) == 0:
                raise DataError(f"no bank rows are left after excluding {', '.join(self.options.exclude_datasets)}.")
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
        if self.options.allow_overlap or not bank.contains_model(weights_sha256(model.state_dict())):
            return
        datasets = sorted(
            set(bank.frame.loc[bank.frame["model_sha256"] == weights_sha256(model.state_dict()), "dataset"])
        )
        raise DataError(
            f"this model's own rows are in the fusion bank (data set {', '.join(datasets)}), so the fusion has seen "
            f"its answers; exclude them (--exclude-bank-dataset {datasets[0]}) or allow it (--allow-bank-overlap)."
        )


class LinearFusionStrategy(FusionStrategy):
    """Linear fusion of all signals."""

    name = "fusion-lr"
    estimator = LinearFusion
    description = "linear regression from all signals to a layer's impact"


class ForestFusionStrategy(FusionStrategy):
    """Random-forest fusion of all signals."""

    name = "fusion-rf"
    estimator = ForestFusion
    description = "random forest from all signals to a layer's impact"


#: The fusion strategies (registered through the ``fuseprune.strategies`` entry points).
FUSION_STRATEGIES: tuple[type[FusionStrategy], ...] = (LinearFusionStrategy, ForestFusionStrategy)
