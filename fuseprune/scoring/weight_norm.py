"""weight_norm: mean Frobenius norm of the layer's weight matrices."""

from __future__ import annotations

import numpy as np
import torch

from fuseprune.scoring.base import Signal, register_signal
from fuseprune.scoring.trace import LayerTrace


def weight_matrices(trace: LayerTrace, layer: int) -> list[torch.Tensor]:
    """Return the weight matrices of ``layer``: its parameters with two or more dimensions."""
    return [p.detach() for _, p in trace.adapter.layer_parameters(layer) if p.ndim >= 2]


@register_signal("weight_norm")
class WeightNorm(Signal):
    """Mean over the layer's weight matrices (parameters with ndim >= 2) of ``||W||_F``.

    Biases and norm scales are left out. A layer without matrices scores 0.
    """

    family = "weight"
    goal = "maximize"
    needs = frozenset({"weights"})
    description = "mean Frobenius norm of the layer's weight matrices"

    def raw_scores(self, trace: LayerTrace) -> np.ndarray:
        """Return the mean weight-matrix norm of every layer."""
        scores = []
        for layer in range(trace.num_layers):
            norms = [float(torch.linalg.matrix_norm(w.double().flatten(1))) for w in weight_matrices(trace, layer)]
            scores.append(float(np.mean(norms)) if norms else 0.0)
        return np.asarray(scores)
