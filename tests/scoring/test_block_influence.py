"""block_influence on the hand-set toy stack (identity, scale by 2, rotate by 90 degrees)."""

from __future__ import annotations

import pytest

from fuseprune.scoring import score_layers


def test_block_influence_hand_checked(toy, toy_batches):
    # 1 - cos(h_in, h_out) per token (hidden states in the `toy` fixture docstring):
    # L0 identity: cos = 1 -> 0.  L1 scale by 2: cos((1,1),(2,2)) = 1 -> 0 (scaling keeps direction).
    # L2 rotate 90: cos((2,2),(-2,2)) = 0 and cos((2,0),(0,2)) = 0 -> 1.
    scores = score_layers(toy, toy_batches, ["block_influence"], layers="layers")["block_influence"]
    assert scores.raw == pytest.approx([0.0, 0.0, 1.0], abs=1e-9)
    # goal maximize: min-max keep = (raw - 0) / (1 - 0)
    assert scores.keep == pytest.approx([0.0, 0.0, 1.0])


def test_block_influence_ignores_padding(make_toy):
    # Layer 0 maps token 0 (1,0) to itself (cos 1) but token 1 (0,1) to (1,0) (cos 0): [[1,1],[0,0]].
    # Row [0, 0] plus padding tokens [1, 1] (mask 0): only token 0 counts -> 0. Counting padding: 0.5.
    import torch

    model = make_toy(torch.eye(2), [torch.tensor([[1.0, 1.0], [0.0, 0.0]])], torch.eye(2))
    batch = {"input_ids": torch.tensor([[0, 0, 1, 1]]), "attention_mask": torch.tensor([[1, 1, 0, 0]])}
    scores = score_layers(model, [batch], ["block_influence"], layers="layers")["block_influence"]
    assert scores.raw == pytest.approx([0.0], abs=1e-9)
    scores = score_layers(model, [{"input_ids": torch.tensor([[0, 0, 1, 1]])}], ["block_influence"], layers="layers")
    assert scores["block_influence"].raw == pytest.approx([0.5])
