"""act_variance: variance of each layer's output activations."""

from __future__ import annotations

import numpy as np

from fuseprune.scoring.base import Signal, register_signal
from fuseprune.scoring.trace import LayerTrace


@register_signal("act_variance")
class ActVariance(Signal):
    """Per-feature variance of ``h_out`` over valid tokens (population variance), averaged over features.

    Higher variance means the layer's output carries more token-specific signal,
    so it is treated as more important.
    """

    family = "activation"
    goal = "maximize"
    needs = frozenset({"activations"})
    description = "mean over hidden features of the variance of h_out across valid tokens"

    def raw_scores(self, trace: LayerTrace) -> np.ndarray:
        """Return the mean per-feature output variance of every layer."""
        hidden = trace.require("hidden", self.name)
        if hidden.out_m2 is None:
            return np.zeros(trace.num_layers)
        return hidden.out_m2.mean(axis=1) / np.maximum(hidden.tokens, 1)
