"""weight_norm on the hand-set toy stack."""

from __future__ import annotations

import math

import pytest

from fuseprune.scoring import score_layers


def test_weight_norm_hand_checked(toy, toy_batches):
    # One 2x2 matrix per layer: ||I||_F = sqrt(2), ||2I||_F = 2 sqrt(2), ||R90||_F = sqrt(1 + 1) = sqrt(2).
    scores = score_layers(toy, toy_batches, ["weight_norm"], layers="layers")["weight_norm"]
    assert scores.raw == pytest.approx([math.sqrt(2), 2 * math.sqrt(2), math.sqrt(2)])
    assert scores.keep == pytest.approx([0.0, 1.0, 0.0])


def test_weight_norm_averages_matrices_and_skips_vectors(make_toy, toy_batches):
    import torch
    from torch import nn

    model = make_toy(torch.eye(2), [torch.eye(2)], torch.eye(2))
    layer = model.layers[0]
    layer.extra = nn.Linear(2, 2, bias=True)  # a second matrix [[3,0],[0,4]] -> ||.||_F = 5; its bias is ignored
    with torch.no_grad():
        layer.extra.weight.copy_(torch.tensor([[3.0, 0.0], [0.0, 4.0]]))
        layer.extra.bias.fill_(100.0)
    scores = score_layers(model, toy_batches, ["weight_norm"], layers="layers")["weight_norm"]
    # mean of sqrt(2) and 5
    assert scores.raw == pytest.approx([(math.sqrt(2) + 5) / 2])
