"""fisher: empirical Fisher information of a gate on each layer's residual update."""

from __future__ import annotations

import numpy as np

from fuseprune.scoring.base import Signal, register_signal
from fuseprune.scoring.trace import LayerTrace


@register_signal("fisher")
class Fisher(Signal):
    """Mean over rows of the squared per-row gradient of the loss w.r.t. a layer gate.

    Each layer is read as ``h_out = h_in + a * (h_out - h_in)`` with an implicit
    scalar gate ``a = 1``. For row ``r`` (one calibration sequence, the sample of
    the empirical Fisher) ``s_r = dLoss_r/da = sum_t g_t . (h_out - h_in)_t`` where
    ``Loss_r`` is the row's summed token loss and ``g_t = dLoss/dh_out``. The signal is
    ``mean_r s_r ** 2`` (Theis et al. 2018, Fisher pruning, at layer granularity).

    Why not the mean squared *parameter* gradient: per-row parameter gradients
    would need one backward per row, and the square of the batch-accumulated
    gradient depends on how rows are batched. ``s_r`` is exact per row from the
    single shared backward and does not depend on batching.
    """

    family = "gradient"
    goal = "maximize"
    needs = frozenset({"output_gradients"})
    description = "mean over rows of (d row loss / d layer gate)^2, the gate's empirical Fisher"

    def raw_scores(self, trace: LayerTrace) -> np.ndarray:
        """Return the gate Fisher information of every layer."""
        gates = trace.require("gates", self.name)
        return gates.gate_sq_sum / max(trace.n_rows, 1)
