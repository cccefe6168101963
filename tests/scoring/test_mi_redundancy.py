"""mi_redundancy: MI between a layer's input and output; an identity layer is the most redundant."""

from __future__ import annotations

import pytest
import torch

from fuseprune.scoring import TraceConfig, score_layers


@pytest.fixture
def mi_stack(make_toy):
    """D = 8, 64 random token embeddings; layers: identity, random mixing, all-zero."""
    g = torch.Generator().manual_seed(0)
    embed, mix, head = torch.randn(64, 8, generator=g), torch.randn(8, 8, generator=g), torch.randn(64, 8, generator=g)
    model = make_toy(embed, [torch.eye(8), mix, torch.zeros(8, 8)], head)
    return model, [{"input_ids": torch.randint(0, 64, (10, 20), generator=g)}]


def test_mi_redundancy_orders_identity_mixing_zero(mi_stack):
    # Identity: h_out == h_in, so each projection of the output is a copy of the input's (maximal MI).
    # Random mixing: the output projection is a different linear function of the input (less MI).
    # Zero layer: constant output, MI ~ 0.
    model, batches = mi_stack
    scores = score_layers(model, batches, ["mi_redundancy"], layers="layers")["mi_redundancy"]
    identity, mixing, zero = scores.raw
    assert identity > mixing + 0.5 > 0.5
    assert zero == pytest.approx(0.0, abs=0.05)
    # high = redundant: the identity layer is the first to go
    assert scores.goal == "minimize" and scores.keep == pytest.approx([0.0, (identity - mixing) / identity, 1.0])


def test_mi_redundancy_is_seeded(mi_stack):
    model, batches = mi_stack
    one = score_layers(model, batches, ["mi_redundancy"], layers="layers", seed=1)["mi_redundancy"].raw
    again = score_layers(model, batches, ["mi_redundancy"], layers="layers", seed=1)["mi_redundancy"].raw
    other = score_layers(model, batches, ["mi_redundancy"], layers="layers", seed=2)["mi_redundancy"].raw
    assert one == again
    assert one != other


def test_mi_needs_enough_tokens(toy, toy_batches):
    from fuseprune.errors import DataError

    with pytest.raises(DataError, match="at least 16 calibration tokens"):
        score_layers(toy, toy_batches, ["mi_redundancy"], layers="layers", config=TraceConfig(mi_samples=64))
