"""mi_redundancy: mutual information between a layer's input and output (high = redundant)."""

from __future__ import annotations

import numpy as np
from sklearn.feature_selection import mutual_info_regression
from threadpoolctl import threadpool_limits

from fuseprune.scoring.base import Signal, register_signal
from fuseprune.scoring.trace import LayerTrace


@register_signal("mi_redundancy")
class MIRedundancy(Signal):
    """Mean over projection directions ``r_j`` of ``MI(r_j . h_in, r_j . h_out)`` (nats, KSG estimator).

    Tokens are the trace's seeded, batch-invariant subsample; ``r_j`` are the
    trace's seeded Gaussian directions. MI is estimated with scikit-learn's
    ``mutual_info_regression`` (k-nearest neighbours, ``random_state=seed``).
    A layer whose output is (nearly) a function-preserving copy of its input
    has high MI and is redundant, so lower means "keep" (goal minimize).
    """

    family = "information"
    goal = "minimize"
    needs = frozenset({"samples"})
    description = "mean over seeded 1-D projections of MI(h_in, h_out) on a token subsample"

    def raw_scores(self, trace: LayerTrace) -> np.ndarray:
        """Return the input-output mutual information of every layer."""
        states, _ = trace.require("samples", self.name).require(self.name)
        scores = []
        with threadpool_limits(limits=1):  # small kNN queries: thread start-up costs more than it saves
            for layer in range(trace.num_layers):
                x, y = states[layer], states[layer + 1]
                mi = [mutual_info_regression(x[:, [j]], y[:, j], random_state=trace.seed)[0] for j in range(x.shape[1])]
                scores.append(float(np.mean(mi)))
        return np.asarray(scores)
