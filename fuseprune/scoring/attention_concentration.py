"""attention_concentration: mean maximum attention probability of the layer."""

from __future__ import annotations

import numpy as np

from fuseprune.scoring.base import Signal, register_signal
from fuseprune.scoring.trace import LayerTrace


@register_signal("attention_concentration")
class AttentionConcentration(Signal):
    """Mean over heads and valid query tokens of ``max_k p_k``.

    Sharply focused heads are treated as doing specific work: a higher mean
    maximum probability means "keep".
    """

    family = "attention"
    goal = "maximize"
    needs = frozenset({"attentions"})
    description = "mean over heads and valid queries of the largest attention probability"

    def raw_scores(self, trace: LayerTrace) -> np.ndarray:
        """Return the mean maximum attention probability of every layer."""
        attention = trace.require("attention", self.name)
        return attention.max_sum / np.maximum(attention.count, 1)
