"""grad_norm: L2 norm of the loss gradient with respect to each layer's parameters."""

from __future__ import annotations

import numpy as np

from fuseprune.scoring.base import Signal, register_signal
from fuseprune.scoring.trace import LayerTrace


@register_signal("grad_norm")
class GradNorm(Signal):
    """L2 norm, over all of a layer's parameters, of the gradient of the mean calibration loss.

    The gradient is that of the mean loss over every target token of the whole
    calibration set (batches are accumulated as summed losses / total tokens).
    """

    family = "gradient"
    goal = "maximize"
    needs = frozenset({"gradients"})
    description = "L2 norm of d(mean loss)/d(layer parameters) over the whole calibration set"

    def raw_scores(self, trace: LayerTrace) -> np.ndarray:
        """Return the parameter-gradient norm of every layer."""
        gradients = trace.require("gradients", self.name)
        squares, _ = gradients.squared_sums(1.0 / max(trace.n_targets, 1))
        return np.sqrt(squares)
