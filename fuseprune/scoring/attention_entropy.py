"""attention_entropy: mean entropy of the layer's attention distributions."""

from __future__ import annotations

import numpy as np

from fuseprune.scoring.base import Signal, register_signal
from fuseprune.scoring.trace import LayerTrace


@register_signal("attention_entropy")
class AttentionEntropy(Signal):
    """Mean over heads and valid query tokens of ``-sum_k p_k log p_k`` (nats).

    A layer whose heads spread attention evenly mostly averages its context and
    is treated as less important: lower entropy means "keep" (goal minimize).
    """

    family = "attention"
    goal = "minimize"
    needs = frozenset({"attentions"})
    description = "mean entropy (nats) of attention distributions over heads and valid queries"

    def raw_scores(self, trace: LayerTrace) -> np.ndarray:
        """Return the mean attention entropy of every layer."""
        attention = trace.require("attention", self.name)
        return attention.entropy_sum / np.maximum(attention.count, 1)
