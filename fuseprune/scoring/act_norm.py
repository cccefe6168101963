"""act_norm: mean L2 norm of each layer's residual update ``h_out - h_in``."""

from __future__ import annotations

import numpy as np

from fuseprune.scoring.base import Signal, register_signal
from fuseprune.scoring.trace import LayerTrace


@register_signal("act_norm")
class ActNorm(Signal):
    """Mean over valid tokens of ``||h_out - h_in||_2``; a layer that changes little can go."""

    family = "activation"
    goal = "maximize"
    needs = frozenset({"activations"})
    description = "mean L2 norm of the residual update h_out - h_in over valid tokens"

    def raw_scores(self, trace: LayerTrace) -> np.ndarray:
        """Return the token-weighted mean update norm of every layer."""
        hidden = trace.require("hidden", self.name)
        return hidden.update_norm_sum / np.maximum(hidden.tokens, 1)
