"""Calibration batches: targets per objective, padding, summed losses."""

from __future__ import annotations

import pytest
import torch

from fuseprune.scoring.batches import prepare_batch, summed_loss

CPU = torch.device("cpu")


def test_causal_targets_skip_padding_and_last_token():
    batch = prepare_batch(
        {"input_ids": torch.tensor([[5, 6, 7], [8, 9, 0]]), "attention_mask": torch.tensor([[1, 1, 1], [1, 1, 0]])},
        CPU, "causal", 0,
    )
    assert batch.targets.tolist() == [[6, 7, -100], [9, -100, -100]]
    assert (batch.n_tokens, batch.n_targets, batch.n_rows) == (5, 3, 2)


def test_masked_targets_are_the_tokens_themselves():
    raw = {"input_ids": torch.tensor([[5, 6, 0]]), "attention_mask": torch.tensor([[1, 1, 0]])}
    batch = prepare_batch(raw, CPU, "masked", 0)
    assert batch.targets.tolist() == [[5, 6, -100]]


def test_summed_loss_is_the_sum_of_token_losses():
    batch = prepare_batch({"input_ids": torch.tensor([[0, 1, 1]])}, CPU, "causal", 0)
    logits = torch.zeros(1, 3, 4)  # uniform over 4 tokens: each of the 2 targets costs ln 4
    assert float(summed_loss(logits, batch)) == pytest.approx(2 * torch.log(torch.tensor(4.0)).item())
    # a custom mean loss is re-weighted by the target count
    assert float(summed_loss(logits, batch, lambda logits, b: torch.tensor(0.5))) == 1.0
