"""The ``ablation`` reference (the oracle): the loss increase when one layer alone is skipped.

For every batch the model runs forward-only ``L + 1`` times: once intact, then
once with each layer replaced by an identity pass-through
(:meth:`~fuseprune.models.adapters.LayerAdapter.skip_layers`). The raw score of
a layer is ``mean loss without it - mean loss intact`` over all target tokens
of the data given (pass a holdout split). It honours a custom ``loss_fn``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from fuseprune.errors import DataError
from fuseprune.models.adapters import LayerAdapter, get_adapter
from fuseprune.progress import Progress, or_null
from fuseprune.scoring.base import LossFn, Reference, register_reference
from fuseprune.scoring.batches import count_batches, iter_batches, prepare_batch, summed_loss
from fuseprune.scoring.scores import LayerScores
from fuseprune.scoring.trace import eval_mode


def ablation_scores(
    model: nn.Module,
    batches: Iterable[Mapping[str, Any]],
    *,
    loss_fn: LossFn | None = None,
    layers: str | None = None,
    progress: Progress | None = None,
) -> LayerScores:
    """Return the holdout-loss increase caused by skipping each layer alone.

    Args:
        model: The model to ablate (restored unchanged afterwards).
        batches: Holdout batches (dicts with ``input_ids`` and optional ``attention_mask``).
        loss_fn: Optional ``loss_fn(logits, batch) -> scalar mean loss``.
        layers: Dotted path of the layer list, for unsupported architectures.
        progress: Optional progress reporter (one step per model evaluation).

    Raises:
        DataError: ``batches`` is empty or has no token with a loss target.
    """
    return AblationReference().score(get_adapter(model, layers), batches, loss_fn=loss_fn, progress=progress)


@register_reference("ablation")
class AblationReference(Reference):
    """Measured loss increase per skipped layer; ``L + 1`` forward-only evaluations per batch."""

    goal = "maximize"
    needs_data = True
    description = "increase of the mean loss when the layer alone is skipped (oracle)"

    def score(
        self,
        adapter: LayerAdapter,
        batches: Iterable[Mapping[str, Any]],
        *,
        seed: int = 0,
        loss_fn: LossFn | None = None,
        progress: Progress | None = None,
    ) -> LayerScores:
        """Return the ablation oracle's scores for the adapter's layers."""
        progress = or_null(progress)
        n = count_batches(batches)
        progress.start(f"Ablating {adapter.num_layers} layers", None if n is None else n * (adapter.num_layers + 1))
        try:
            totals, n_targets = _loss_totals(adapter, batches, loss_fn, progress)
        finally:
            progress.stop()
        raw = (totals[1:] - totals[0]) / n_targets
        return LayerScores(name="ablation", family="reference", goal=self.goal, raw=tuple(raw), reference=True)


def _loss_totals(
    adapter: LayerAdapter, batches: Iterable[Mapping[str, Any]], loss_fn: LossFn | None, progress: Progress
) -> tuple[np.ndarray, int]:
    """Return summed losses ``[intact, without layer 0, ...]`` and the number of target tokens."""
    totals = np.zeros(adapter.num_layers + 1)
    n_batches = n_targets = 0
    with eval_mode(adapter.model), torch.no_grad():
        for index, raw in enumerate(iter_batches(batches)):
            batch = prepare_batch(raw, adapter.device, adapter.objective, index)
            n_batches += 1
            if batch.n_targets == 0:
                continue
            n_targets += batch.n_targets
            totals[0] += float(summed_loss(adapter.logits(batch.inputs), batch, loss_fn))
            progress.advance()
            for layer in range(adapter.num_layers):
                with adapter.skip_layers([layer]):
                    totals[layer + 1] += float(summed_loss(adapter.logits(batch.inputs), batch, loss_fn))
                progress.advance()
    if n_batches == 0:
        raise DataError("`batches` must contain at least one batch; got none.")
    if n_targets == 0:
        raise DataError("calibration batches must contain at least one token with a loss target; got none.")
    return totals, n_targets
