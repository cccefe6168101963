"""block_influence: ShortGPT's Block Influence, ``1 - cos(h_in, h_out)`` averaged over tokens."""

from __future__ import annotations

import numpy as np

from fuseprune.scoring.base import Signal, register_signal
from fuseprune.scoring.trace import LayerTrace


@register_signal("block_influence")
class BlockInfluence(Signal):
    """Mean over valid tokens of ``1 - cos(h_in, h_out)`` (0 for a layer that keeps directions).

    Men et al. 2024, "ShortGPT: Layers in Large Language Models are More Redundant
    Than You Expect". A layer that only rescales its input scores 0.
    """

    family = "activation"
    goal = "maximize"
    needs = frozenset({"activations"})
    description = "mean over valid tokens of 1 - cosine(h_in, h_out) (ShortGPT)"

    def raw_scores(self, trace: LayerTrace) -> np.ndarray:
        """Return the token-weighted mean block influence of every layer."""
        hidden = trace.require("hidden", self.name)
        return hidden.influence_sum / np.maximum(hidden.tokens, 1)
