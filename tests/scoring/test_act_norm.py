"""act_norm on the hand-set toy stack."""

from __future__ import annotations

import math

import pytest

from fuseprune.scoring import score_layers


def test_act_norm_hand_checked(toy, toy_batches):
    # ||h_out - h_in|| per token, averaged over the 2 tokens of row [2, 0]:
    # L0 identity: 0.
    # L1 scale by 2: update = h_in -> ||(1,1)|| = sqrt(2), ||(1,0)|| = 1 -> (sqrt(2) + 1) / 2.
    # L2 rotate 90: (-2,2)-(2,2) = (-4,0) -> 4; (0,2)-(2,0) = (-2,2) -> 2 sqrt(2) -> 2 + sqrt(2).
    scores = score_layers(toy, toy_batches, ["act_norm"], layers="layers")["act_norm"]
    assert scores.raw == pytest.approx([0.0, (math.sqrt(2) + 1) / 2, 2 + math.sqrt(2)])
    assert scores.keep[0] == 0.0 and scores.keep[2] == 1.0
