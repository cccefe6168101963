"""conductance: captum gradient x activation of every layer output, all layers in one captum call."""

from __future__ import annotations

import pytest
import torch

from fuseprune.scoring import score_layers


def test_conductance_hand_checked(make_toy, linear_loss):
    # Stack: scale by 2, scale by 3 (D = 2); head logit_0 = h[0]. Rows [2, 0] and [3, 0] where token 2 is
    # (1,1) and token 3 is (-1,-1); only t=0 has a loss (t=1 gets g = 0).
    # Row [2, 0], t=0: L0 out (2,2), L1 out (6,6). g at L1 out = (1,0); at L0 out = 3 (1,0) = (3,0).
    #   g . h_out: L0 3*2 = 6, L1 1*6 = 6.  Row [3, 0]: the same with the sign flipped: -6, -6.
    # |g . h_out| averaged over the 4 valid tokens: (6 + 0 + 6 + 0) / 4 = 3 for both layers
    # (without the absolute value the rows would cancel to 0).
    # With head logit_0 = h[0] + h[1]: g(L1) = (1,1) -> 12; g(L0) = (3,3) -> 12: means 6, 6.
    embed = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, -1.0]])
    head = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
    batch = {"input_ids": torch.tensor([[2, 0], [3, 0]])}
    model = make_toy(embed, [2 * torch.eye(2), 3 * torch.eye(2)], head)
    scores = score_layers(model, [batch], ["conductance"], layers="layers", loss_fn=linear_loss)["conductance"]
    assert scores.raw == pytest.approx([3.0, 3.0])
    head[0] = torch.tensor([1.0, 1.0])
    model = make_toy(embed, [2 * torch.eye(2), 3 * torch.eye(2)], head)
    scores = score_layers(model, [batch], ["conductance"], layers="layers", loss_fn=linear_loss)["conductance"]
    assert scores.raw == pytest.approx([6.0, 6.0])


def test_conductance_makes_one_captum_pass_per_batch(gpt2, gpt2_batches, counter):
    calls = counter(gpt2, gpt2.transformer.ln_f)
    score_layers(gpt2, gpt2_batches, ["conductance"])
    calls.remove()
    # Conductance alone needs nothing from the shared trace: one captum forward and one captum
    # backward per batch, for all 3 layers together.
    assert (calls.forwards, calls.backwards) == (len(gpt2_batches), len(gpt2_batches))
