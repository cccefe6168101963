"""grad_norm on the hand-set toy stack with the linear loss."""

from __future__ import annotations

import math

import pytest
import torch

from fuseprune.scoring import score_layers


def test_grad_norm_hand_checked(toy, toy_batches, linear_loss):
    # dLoss/dA = sum_t g_t x_t^T with x the layer input and g from test_taylor (only t=0 has g != 0):
    #   L0: g (0,-2), x (1,1) -> [[0,0],[-2,-2]] -> norm 2 sqrt(2).
    #   L1: g (0,-1), x (1,1) -> [[0,0],[-1,-1]] -> sqrt(2).
    #   L2: g (1,0),  x (2,2) -> [[2,2],[0,0]]   -> 2 sqrt(2).
    scores = score_layers(toy, toy_batches, ["grad_norm"], layers="layers", loss_fn=linear_loss)["grad_norm"]
    assert scores.raw == pytest.approx([2 * math.sqrt(2), math.sqrt(2), 2 * math.sqrt(2)])


def test_grad_norm_is_the_gradient_of_the_mean_loss(toy, linear_loss):
    # Rows [2, 0] and [0, 0]: 2 target tokens, loss = mean of logit_0 at t=0 over the two rows.
    # dLoss/dA2 = (1/2) sum_rows g x^T with g = (1,0); L2 inputs (2,2) and (2,0):
    # (1/2) ([[2,2],[0,0]] + [[2,0],[0,0]]) = [[2,1],[0,0]] -> norm sqrt(5). (The summed loss: sqrt(20).)
    batch = {"input_ids": torch.tensor([[2, 0], [0, 0]])}
    scores = score_layers(toy, [batch], ["grad_norm"], layers="layers", loss_fn=linear_loss)["grad_norm"]
    assert scores.raw[2] == pytest.approx(math.sqrt(5))


def test_grad_norm_leaves_grad_fields_and_flags_alone(toy, toy_batches, linear_loss):
    toy.layers[1].linear.weight.requires_grad_(False)
    score_layers(toy, toy_batches, ["grad_norm"], layers="layers", loss_fn=linear_loss)
    assert all(p.grad is None for p in toy.parameters())
    assert toy.layers[1].linear.weight.requires_grad is False
    assert toy.layers[0].linear.weight.requires_grad is True
