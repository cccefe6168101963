"""taylor on the hand-set toy stack with the linear loss mean(logit_0 over target positions)."""

from __future__ import annotations

import pytest

from fuseprune.scoring import score_layers


def test_taylor_hand_checked(toy, toy_batches, linear_loss):
    # Row [2, 0]: one target position (t=0), so the summed loss is logit_0 = h_final[t=0][0] = -2.
    # g = dLoss/dh_out at t=0 (t=1 has no loss -> g = 0):
    #   L2: (1, 0).  L1: R90^T (1, 0) = (0, -1).  L0: (2I)^T (0, -1) = (0, -2).
    # update h_out - h_in at t=0: L0 (0,0); L1 (1,1); L2 (-2,2)-(2,2) = (-4,0).
    # taylor = |g . update| / n_targets(=1): L0 0, L1 |-1| = 1, L2 |-4| = 4.
    scores = score_layers(toy, toy_batches, ["taylor"], layers="layers", loss_fn=linear_loss)["taylor"]
    assert scores.raw == pytest.approx([0.0, 1.0, 4.0])
    assert scores.keep == pytest.approx([0.0, 0.25, 1.0])


def test_taylor_uses_the_default_loss_when_none_given(toy, toy_batches, linear_loss):
    default = score_layers(toy, toy_batches, ["taylor"], layers="layers")["taylor"].raw
    custom = score_layers(toy, toy_batches, ["taylor"], layers="layers", loss_fn=linear_loss)["taylor"].raw
    assert default[0] == pytest.approx(0.0)  # identity layer: zero update whatever the loss
    assert default != pytest.approx(custom)
