"""weight_entropy: entropy of the layer's weight-magnitude histogram."""

from __future__ import annotations

import numpy as np
import torch

from fuseprune.scoring.base import Signal, register_signal
from fuseprune.scoring.trace import LayerTrace
from fuseprune.scoring.weight_norm import weight_matrices

BINS = 64


def magnitude_entropy(values: torch.Tensor, bins: int = BINS) -> float:
    """Return the entropy (nats) of the histogram of ``|values|`` on ``bins`` equal bins over ``[0, max|v|]``."""
    magnitudes = values.detach().double().abs().flatten()
    top = float(magnitudes.max()) if magnitudes.numel() else 0.0
    if top == 0.0:
        return 0.0
    counts = torch.histc(magnitudes, bins=bins, min=0.0, max=top)
    p = counts / counts.sum()
    return float(-torch.special.xlogy(p, p).sum())


@register_signal("weight_entropy")
class WeightEntropy(Signal):
    """Entropy (nats) of the histogram of ``|w|`` over all weight matrices of the layer.

    64 equal bins from 0 to the layer's largest magnitude, so the value does not
    change when a layer is rescaled. Low entropy means most weights sit in few
    magnitude bins (e.g. near zero); higher entropy means "keep".
    """

    family = "weight"
    goal = "maximize"
    needs = frozenset({"weights"})
    description = "entropy of the 64-bin histogram of |w| over the layer's weight matrices"

    def raw_scores(self, trace: LayerTrace) -> np.ndarray:
        """Return the weight-magnitude entropy of every layer."""
        scores = []
        for layer in range(trace.num_layers):
            matrices = weight_matrices(trace, layer)
            flat = torch.cat([w.flatten() for w in matrices]) if matrices else torch.zeros(0)
            scores.append(magnitude_entropy(flat))
        return np.asarray(scores)
