"""weight_entropy: entropy of the 64-bin histogram of |w| over [0, max |w|]."""

from __future__ import annotations

import math

import pytest
import torch

from fuseprune.scoring import score_layers
from fuseprune.scoring.weight_entropy import magnitude_entropy


def test_magnitude_entropy_hand_checked():
    # |w| = {0, 1, 0.5, 1}: bins over [0, 1] of width 1/64 -> 0 in bin 0, 0.5 in bin 32, 1 in bin 63.
    # p = (1/4, 1/4, 1/2): H = 2 * (1/4) ln 4 + (1/2) ln 2 = 1.5 ln 2.
    assert magnitude_entropy(torch.tensor([[0.0, 1.0], [-0.5, -1.0]])) == pytest.approx(1.5 * math.log(2))
    # All magnitudes equal -> one bin -> 0; all zero -> 0.
    assert magnitude_entropy(torch.ones(2, 2)) == 0.0
    assert magnitude_entropy(torch.zeros(2, 2)) == 0.0


def test_weight_entropy_per_layer_and_scale_invariant(make_toy, toy_batches):
    # Layer 0: [[0,1],[0.5,1]] -> 1.5 ln 2 (above).  Layer 1: 10x the same -> same entropy.
    # Layer 2: [[1,1],[1,1]] -> 0.
    m = torch.tensor([[0.0, 1.0], [0.5, 1.0]])
    model = make_toy(torch.eye(2), [m, 10 * m, torch.ones(2, 2)], torch.eye(2))
    scores = score_layers(model, toy_batches, ["weight_entropy"], layers="layers")["weight_entropy"]
    assert scores.raw == pytest.approx([1.5 * math.log(2), 1.5 * math.log(2), 0.0])
