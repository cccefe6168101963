"""Scores do not depend on how calibration rows are split into batches (padding included)."""

from __future__ import annotations

import pytest
import transformers

from fuseprune.scoring import list_signals, score_layers


def tiny_bert():
    import torch

    torch.manual_seed(0)
    config = transformers.BertConfig(
        num_hidden_layers=3, hidden_size=16, num_attention_heads=2, intermediate_size=32, vocab_size=40,
        max_position_embeddings=32,
    )
    return transformers.BertForMaskedLM(config)


@pytest.mark.parametrize("arch", ["gpt2", "bert"])
def test_one_batch_or_several_give_the_same_scores(arch, make_gpt2, rows, split):
    model = make_gpt2() if arch == "gpt2" else tiny_bert()
    ids, mask = rows(n_rows=10, length=14)
    names = list_signals() + ["ablation"]
    whole = score_layers(model, split(ids, mask, [10]), names, seed=3)
    pieces = score_layers(model, split(ids, mask, [3, 4, 1, 2]), names, seed=3)
    for name in names:
        # ablation is a difference of two float32 losses of ~3.7 nats: float noise ~1e-6 absolute
        tolerance = 5e-6 if name == "ablation" else 1e-7
        assert pieces[name].raw == pytest.approx(whole[name].raw, rel=1e-5, abs=tolerance), name
