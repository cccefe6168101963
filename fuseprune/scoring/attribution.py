"""Captum layer attributions of every layer in ONE call per batch (for the conductance signal).

``LayerGradientXActivation`` is given the whole list of layers, so each batch
costs one extra forward and one extra backward however many layers there are.
The attributed output is the batch's summed loss (one scalar), so the gradient
at a token only comes from its own row's loss and the result does not depend on
batching.
"""

from __future__ import annotations

import numpy as np
import torch
from captum.attr import LayerGradientXActivation

from fuseprune.models.adapters import LayerAdapter
from fuseprune.scoring.base import LossFn
from fuseprune.scoring.batches import CalibrationBatch, summed_loss


class AttributionRecorder:
    """Sums of absolute per-token gradient x activation attributions of each layer's output.

    Attributes:
        abs_sum: ``sum over valid tokens |sum_d (dLoss/dh_out * h_out)_d|`` per layer ``[L]``.
        tokens: Number of valid tokens attributed.
    """

    def __init__(self, adapter: LayerAdapter, loss_fn: LossFn | None = None) -> None:
        self.adapter = adapter
        self.loss_fn = loss_fn
        self.abs_sum = np.zeros(adapter.num_layers)
        self.tokens = 0

    def update(self, batch: CalibrationBatch) -> None:
        """Attribute the summed loss of ``batch`` to every layer output (one captum call)."""
        if batch.n_targets == 0:
            return

        def forward(input_ids: torch.Tensor) -> torch.Tensor:
            logits = self.adapter.logits({**batch.inputs, "input_ids": input_ids})
            return summed_loss(logits, batch, self.loss_fn).reshape(1)

        method = LayerGradientXActivation(forward, list(self.adapter.layers))
        with torch.enable_grad():
            attributions = method.attribute(batch.input_ids)
        for layer, attribution in enumerate(attributions):
            if isinstance(attribution, tuple):
                attribution = attribution[0]
            per_token = attribution.detach().double().sum(dim=-1)
            self.abs_sum[layer] += float(per_token[batch.valid].abs().sum())
        self.tokens += batch.n_tokens
