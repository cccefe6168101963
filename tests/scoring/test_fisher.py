"""fisher: mean over rows of the squared per-row gradient w.r.t. each layer's gate."""

from __future__ import annotations

import pytest
import torch

from fuseprune.scoring import score_layers


def test_fisher_hand_checked(toy, toy_batches, linear_loss):
    # One row: s = g . update summed over tokens = 0, -1, -4 (see test_taylor) -> fisher = s^2 = 0, 1, 16.
    scores = score_layers(toy, toy_batches, ["fisher"], layers="layers", loss_fn=linear_loss)["fisher"]
    assert scores.raw == pytest.approx([0.0, 1.0, 16.0])


def test_fisher_squares_per_row_not_the_sum(toy, linear_loss):
    # Rows [2, 0] (s = 0, -1, -4) and [0, 0]: t=0 input (1,0) -> L0 (1,0), L1 (2,0), L2 (0,2);
    # g as in test_taylor; L1 update (1,0) . (0,-1) = 0; L2 update (0,2)-(2,0) = (-2,2) . (1,0) = -2.
    # s(row 2) = 0, 0, -2.  fisher = mean of squares = (0, (1 + 0) / 2, (16 + 4) / 2) = (0, 0.5, 10).
    # (The square of the summed gradient would give (0, 0.5, 18).)
    # linear_loss averages over the 2 target tokens; the trace multiplies by 2 -> per-row sums.
    batch = {"input_ids": torch.tensor([[2, 0], [0, 0]])}
    scores = score_layers(toy, [batch], ["fisher"], layers="layers", loss_fn=linear_loss)["fisher"]
    assert scores.raw == pytest.approx([0.0, 0.5, 10.0])
