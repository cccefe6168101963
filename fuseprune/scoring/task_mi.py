"""task_mi: mutual information between a layer's output and the token it must predict."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.feature_selection import mutual_info_classif

from fuseprune.scoring.base import Signal, register_signal
from fuseprune.scoring.trace import LayerTrace

BINS = 8


def rank_bins(values: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Return equal-frequency bin indices (0..bins-1) of each column, by rank (ties by row order)."""
    ranks = np.argsort(np.argsort(values, axis=0, kind="stable"), axis=0, kind="stable")
    return (ranks * bins) // len(values)


def miller_madow(binned: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Return the Miller-Madow bias of the plug-in MI of each column: ``(K_xy - K_x - K_y + 1) / 2n``."""
    n, k_y = len(targets), len(np.unique(targets))
    corrections = []
    for column in binned.T:
        k_x = len(np.unique(column))
        k_xy = np.unique(np.stack([column, targets]), axis=1).shape[1]
        corrections.append((k_xy - k_x - k_y + 1) / (2 * n))
    return np.asarray(corrections)


@register_signal("task_mi")
class TaskMI(Signal):
    """Mean over projection directions of ``MI(bin(r_j . h_out), target token)`` (nats).

    The target is the token the loss asks for at that position: the next token
    for causal models, the token itself for masked-LM models scored with
    labels = input_ids. Each projected coordinate of the trace's seeded token
    subsample is cut into 8 equal-frequency bins by rank and scikit-learn's
    ``mutual_info_classif(discrete_features=True)`` gives the contingency-table
    MI with the target, from which the Miller-Madow bias is subtracted (so an
    uninformative layer scores about 0, possibly slightly below).

    Why bins and not the continuous kNN estimator (``discrete_features=False``):
    scikit-learn's Ross estimator finds neighbour radii with one distance routine
    and counts points inside them with another, so float32 rounding differences
    between batch shapes flip its neighbour counts and the score would depend on
    batching. Rank bins change only if two tokens swap order. Higher MI means
    more important (goal maximize).
    """

    family = "information"
    goal = "maximize"
    needs = frozenset({"samples"})
    description = "mean over seeded 1-D projections of bias-corrected MI(8-bin h_out, target token)"

    def raw_scores(self, trace: LayerTrace) -> np.ndarray:
        """Return the output-target mutual information of every layer."""
        states, targets = trace.require("samples", self.name).require(self.name)
        scores = []
        for layer in range(trace.num_layers):
            binned = rank_bins(states[layer + 1])
            with warnings.catch_warnings():  # many token classes per sample is expected here
                warnings.filterwarnings("ignore", message="The number of unique classes", category=UserWarning)
                mi = mutual_info_classif(binned, targets, discrete_features=True, random_state=trace.seed)
            scores.append(float(np.mean(mi - miller_madow(binned, targets))))
        return np.asarray(scores)
