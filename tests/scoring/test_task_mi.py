"""task_mi: MI between a layer's output and the token the loss asks for."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fuseprune.scoring import score_layers


def test_task_mi_identity_vs_zero(make_toy):
    # Rows count up cyclically (next token = current + 1 mod 8), so an output that still identifies the
    # current token determines the target: MI close to H(target) = ln 8. A zero layer's output is
    # constant: MI ~ 0 (the plug-in estimate minus its Miller-Madow bias).
    g = torch.Generator().manual_seed(0)
    model = make_toy(torch.randn(8, 8, generator=g), [torch.eye(8), torch.zeros(8, 8)], torch.randn(8, 8, generator=g))
    ids = (torch.arange(26)[None, :] + torch.arange(40)[:, None]) % 8  # 40 x 25 = 1000 targets
    scores = score_layers(model, [{"input_ids": ids}], ["task_mi"], layers="layers")["task_mi"]
    assert scores.raw[0] > 0.7 * math.log(8)
    assert scores.raw[1] == pytest.approx(0.0, abs=0.05)
    assert scores.keep == pytest.approx([1.0, 0.0])


def test_rank_bins_and_miller_madow_by_hand():
    from fuseprune.scoring.task_mi import miller_madow, rank_bins

    values = np.array([[0.3], [0.1], [0.4], [0.2]])
    # ranks 2, 0, 3, 1 -> 2 bins of 2: bins 1, 0, 1, 0
    assert rank_bins(values, bins=2).ravel().tolist() == [1, 0, 1, 0]
    # bins (1,0,1,0) vs targets (5,5,6,6): K_x = 2, K_y = 2, K_xy = 4 -> (4 - 2 - 2 + 1) / 8
    assert miller_madow(np.array([[1], [0], [1], [0]]), np.array([5, 5, 6, 6])).tolist() == [1 / 8]
