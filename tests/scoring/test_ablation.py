"""The ablation oracle: loss increase when one layer alone is skipped."""

from __future__ import annotations

import pytest
import torch

from fuseprune.errors import DataError
from fuseprune.scoring import ablation_scores, score_layers


def test_ablation_hand_checked(toy, toy_batches, linear_loss):
    # Loss = logit_0 at t=0 = h_final[0]; intact: (1,1) -> (1,1) -> (2,2) -> (-2,2): loss -2.
    # skip L0 (identity): unchanged -> +0.  skip L1: (1,1) -> (1,1) -> R90 -> (-1,1): loss -1 -> +1.
    # skip L2: (2,2): loss 2 -> +4.
    scores = ablation_scores(toy, toy_batches, loss_fn=linear_loss, layers="layers")
    assert scores.raw == pytest.approx([0.0, 1.0, 4.0])
    assert scores.reference and scores.family == "reference" and scores.name == "ablation"


def test_ablation_counts_l_plus_one_forward_only_evaluations(gpt2, gpt2_batches, counter):
    calls = counter(gpt2, gpt2.transformer.ln_f)
    table = score_layers(gpt2, gpt2_batches, ["ablation"])
    calls.remove()
    layers = gpt2.config.n_layer
    assert calls.forwards == (layers + 1) * len(gpt2_batches)
    assert calls.backwards == 0
    assert table["ablation"].num_layers == layers
    assert len(gpt2.transformer.h) == layers and all(type(b).__name__ == "GPT2Block" for b in gpt2.transformer.h)


def test_ablation_matches_deleting_the_layer(gpt2, gpt2_batches):
    # Skipping layer 1 must equal running a copy of the model with layer 1 deleted.
    import copy

    base = ablation_scores(gpt2, gpt2_batches).raw
    smaller = copy.deepcopy(gpt2)
    del smaller.transformer.h[1]
    smaller.config.n_layer = 2
    gpt2.eval()
    smaller.eval()

    def mean_loss(model):
        total, count = 0.0, 0
        with torch.no_grad():
            for b in gpt2_batches:
                labels = b["input_ids"].masked_fill(b["attention_mask"] == 0, -100)
                n = int((labels[:, 1:] != -100).sum())
                total += float(model(**b, labels=labels, use_cache=False).loss) * n
                count += n
        return total / count

    assert base[1] == pytest.approx(mean_loss(smaller) - mean_loss(gpt2), abs=1e-5)


def test_ablation_rejects_empty_data(gpt2):
    with pytest.raises(DataError, match="at least one batch"):
        ablation_scores(gpt2, [])
