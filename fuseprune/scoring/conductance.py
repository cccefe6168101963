"""conductance: captum gradient x activation attribution of each layer's output."""

from __future__ import annotations

import numpy as np

from fuseprune.scoring.base import Signal, register_signal
from fuseprune.scoring.trace import LayerTrace


@register_signal("conductance")
class Conductance(Signal):
    """Mean over valid tokens of ``|sum_d (dLoss/dh_out * h_out)_d|`` from captum.

    captum's ``LayerGradientXActivation`` attributes each batch's summed loss to
    the outputs of ALL layers in one call (one extra forward + backward per batch,
    see ``scoring/attribution.py``). ``LayerConductance`` is not used: it takes
    one layer per call and integrates over many forward passes.
    """

    family = "gradient"
    goal = "maximize"
    needs = frozenset({"attribution"})
    description = "mean over valid tokens of |gradient x activation| of the layer output (captum)"

    def raw_scores(self, trace: LayerTrace) -> np.ndarray:
        """Return the mean absolute per-token attribution of every layer."""
        attribution = trace.require("attribution", self.name)
        return attribution.abs_sum / max(attribution.tokens, 1)
