"""taylor: first-order Taylor estimate of the loss change if the layer is removed."""

from __future__ import annotations

import numpy as np

from fuseprune.scoring.base import Signal, register_signal
from fuseprune.scoring.trace import LayerTrace


@register_signal("taylor")
class Taylor(Signal):
    """``|sum over target-bearing rows and valid tokens of g_t . (h_out - h_in)_t| / n_targets``.

    Removing a layer moves its output from ``h_out`` to ``h_in``; to first order
    the mean loss changes by ``-(1/N) sum_t g_t . (h_out - h_in)_t`` where
    ``g_t = dSumLoss/dh_out`` and ``N`` is the number of target tokens. The signal
    is the absolute value of that change (Molchanov et al. 2019, at layer level).
    """

    family = "gradient"
    goal = "maximize"
    needs = frozenset({"output_gradients"})
    description = "|first-order change of the mean loss when h_out is replaced by h_in|"

    def raw_scores(self, trace: LayerTrace) -> np.ndarray:
        """Return the absolute first-order loss change of every layer."""
        gates = trace.require("gates", self.name)
        return np.abs(gates.gate_sum) / max(trace.n_targets, 1)
