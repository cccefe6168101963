"""The ``fusion-rank`` strategy: layers ranked by a pairwise model fitted on subset outcomes.

Options as the other fusion strategies (:class:`~fuseprune.fusion.strategy.FusionOptions`):
``bank`` (a rank bank CSV; empty = the shipped ``default_rank_bank.csv``),
``exclude_datasets``, ``allow_overlap``. Declared in the ``fuseprune.strategies``
entry-point group of ``pyproject.toml``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from torch import nn

from fuseprune.errors import DataError
from fuseprune.fusion.ranking import PairwiseFusion, RankBank, context_features
from fuseprune.fusion.strategy import FusionOptions
from fuseprune.models.adapters import get_adapter
from fuseprune.pruning.fingerprint import weights_sha256
from fuseprune.pruning.strategies import RankContext, Ranking, Strategy
from fuseprune.scoring import score_layers

DEFAULT_RANK_BANK = Path(__file__).with_name("default_rank_bank.csv")


def model_width(model: nn.Module) -> int:
    """The hidden size of ``model`` (``n_embd`` or ``hidden_size`` of its config); 128 when it has neither."""
    config = getattr(model, "config", None)
    for name in ("n_embd", "hidden_size", "d_model"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return 128


class RankFusionStrategy(Strategy):
    """Rank layers by a pairwise logistic model fitted on subset outcomes (options: :class:`FusionOptions`)."""

    name = "fusion-rank"
    description = "pairwise ranking from all signals and context, fitted on which k-layer subsets hurt least"
    options_class = FusionOptions
    options: FusionOptions
    #: Its ``bank`` is a rank bank, not the fusion bank a comparison's ``--bank`` names.
    bank_format: ClassVar[str] = "rank"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._fitted: tuple[RankBank, PairwiseFusion] | None = None

    def prepare(self) -> None:
        """Fit the ranking now: an unreadable bank or one left empty by the exclusions is refused here."""
        self.fitted()

    def fitted(self) -> tuple[RankBank, PairwiseFusion]:
        """The rank bank (after exclusions) and the pairwise model fitted on it, built once."""
        if self._fitted is None:
            bank = RankBank.load(self.options.bank or DEFAULT_RANK_BANK)
            for dataset in self.options.exclude_datasets:
                if len(bank.frame) and not (bank.frame["dataset"] != dataset).any():
                    raise DataError(f"no rank bank rows are left after excluding "
                                    f"{', '.join(self.options.exclude_datasets)}.")
                bank = bank.without(dataset)
            self._fitted = bank, PairwiseFusion().fit(bank)
        return self._fitted

    def rank(self, model: nn.Module, batches: Iterable[Mapping[str, Any]], context: RankContext) -> Ranking:
        """Score ``model`` with the bank's signals and rank its layers by the pairwise model's keep score."""
        bank, fusion = self.fitted()
        self._guard(bank, model)
        table = score_layers(model, batches, fusion.signal_names_in_, seed=context.seed, loss_fn=context.loss_fn,
                             layers=context.layers, progress=context.progress)
        n = get_adapter(model, context.layers).num_layers
        frame = context_features(n, context.removed_fraction, model_width(model))
        for signal in table:
            frame[signal.name] = list(signal.keep)
        keep = tuple(float(v) for v in fusion.predict(frame))
        return Ranking(keep=keep, signal_scores={s.name: s.keep for s in table}, fused=keep)

    def _guard(self, bank: RankBank, model: nn.Module) -> None:
        sha = weights_sha256(model.state_dict())
        if self.options.allow_overlap or not bank.contains_model(sha):
            return
        datasets = sorted(set(bank.frame.loc[bank.frame["model_sha256"] == sha, "dataset"]))
        raise DataError(
            f"this model's own rows are in the rank bank (data set {', '.join(datasets)}), so the fusion has seen "
            f"its answers; exclude them (--exclude-bank-dataset {datasets[0]}) or allow it (--allow-bank-overlap)."
        )
