"""Warm-up and cosine decay, worked out by hand."""

from __future__ import annotations

import pytest
import torch

from fuseprune.training import warmup_cosine


def test_linear_warm_up_then_cosine_decay_to_zero():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = warmup_cosine(optimizer, total=10, warmup_fraction=0.2)  # 2 warm-up steps, 8 of decay
    rates = []
    for _ in range(11):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    # warm-up: 1/2, 2/2; then 0.5 * (1 + cos(pi * k / 8)) for k = 0..8, then 0 past the end
    assert rates[:3] == pytest.approx([0.5, 1.0, 1.0])
    assert rates[6] == pytest.approx(0.5)  # k = 4: cos(pi / 2) = 0
    assert rates[10] == pytest.approx(0.0, abs=1e-12)
