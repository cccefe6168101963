"""TokenSampler: bottom-k by hashed global token index, so the sample ignores batching."""

from __future__ import annotations

import numpy as np
import torch

from fuseprune.scoring.batches import prepare_batch
from fuseprune.scoring.sampler import TokenSampler, token_priorities


def run(sampler: TokenSampler, ids: torch.Tensor, sizes: list[int]) -> None:
    start = 0
    for size in sizes:
        batch = prepare_batch({"input_ids": ids[start : start + size]}, torch.device("cpu"), "causal", 0)
        sampler.begin_batch(batch)
        # state 0 = the token id itself (broadcast to D = 3), so the sample can be read back
        sampler.record(0, batch.input_ids.double()[..., None].expand(-1, -1, 3))
        sampler.end_batch()
        start += size


def test_priorities_are_seeded_uniform():
    p = token_priorities(np.arange(10_000), seed=0)
    assert 0.0 <= p.min() and p.max() < 1.0 and abs(p.mean() - 0.5) < 0.01
    assert not np.array_equal(p, token_priorities(np.arange(10_000), seed=1))


def test_sample_does_not_depend_on_batching():
    ids = torch.arange(60).reshape(6, 10)  # unique token ids; 9 targets per row (causal)
    one, many = TokenSampler(1, 16, 2, seed=5), TokenSampler(1, 16, 2, seed=5)
    run(one, ids, [6])
    run(many, ids, [1, 2, 3])
    assert np.array_equal(one.targets, many.targets) and np.array_equal(one.states, many.states)
    assert len(one.targets) == 16
    # only tokens with a target are eligible: the last column never is (targets = id + 1 <= 58 + 1)
    assert set(one.targets.tolist()) <= {int(i) + 1 for i in ids[:, :-1].flatten()}
    # a different seed samples different tokens
    other = TokenSampler(1, 16, 2, seed=6)
    run(other, ids, [6])
    assert not np.array_equal(one.targets, other.targets)
