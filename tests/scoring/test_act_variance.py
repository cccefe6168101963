"""act_variance on the hand-set toy stack."""

from __future__ import annotations

import pytest

from fuseprune.scoring import score_layers


def test_act_variance_hand_checked(toy, toy_batches):
    # Per-feature population variance of h_out over the 2 tokens, averaged over the 2 features:
    # L0 out {(1,1),(1,0)}: var = (0, 0.25) -> 0.125.
    # L1 out {(2,2),(2,0)}: var = (0, 1) -> 0.5.
    # L2 out {(-2,2),(0,2)}: var = (1, 0) -> 0.5.
    scores = score_layers(toy, toy_batches, ["act_variance"], layers="layers")["act_variance"]
    assert scores.raw == pytest.approx([0.125, 0.5, 0.5])


def test_act_variance_pools_tokens_across_batches(toy):
    import torch

    # The two tokens in two batches must give the pooled variance, not the mean of per-batch variances (0).
    batches = [{"input_ids": torch.tensor([[2]])}, {"input_ids": torch.tensor([[0]])}]
    scores = score_layers(toy, batches, ["act_variance"], layers="layers")["act_variance"]
    assert scores.raw == pytest.approx([0.125, 0.5, 0.5])
