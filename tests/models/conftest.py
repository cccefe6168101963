"""Tiny transformers models of every supported architecture, built locally from small configs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import transformers

_DECODER = dict(num_hidden_layers=3, hidden_size=16, num_attention_heads=2, num_key_value_heads=1, intermediate_size=32,
                vocab_size=40, max_position_embeddings=32, bos_token_id=0, eos_token_id=0, pad_token_id=0)
_ENCODER = dict(
    num_hidden_layers=3, hidden_size=16, num_attention_heads=2, intermediate_size=32, vocab_size=40, pad_token_id=0
)

BUILDERS: dict[str, Callable[[], transformers.PreTrainedModel]] = {
    "gpt2": lambda: transformers.GPT2LMHeadModel(
        transformers.GPT2Config(
            n_layer=3, n_embd=16, n_head=2, vocab_size=40, n_positions=32, bos_token_id=0, eos_token_id=0
        )
    ),
    "llama": lambda: transformers.LlamaForCausalLM(transformers.LlamaConfig(**_DECODER)),
    "mistral": lambda: transformers.MistralForCausalLM(transformers.MistralConfig(**_DECODER)),
    "qwen2": lambda: transformers.Qwen2ForCausalLM(transformers.Qwen2Config(**_DECODER)),
    "bert": lambda: transformers.BertForMaskedLM(transformers.BertConfig(**_ENCODER, max_position_embeddings=32)),
    "roberta": lambda: transformers.RobertaForMaskedLM(
        transformers.RobertaConfig(**_ENCODER, max_position_embeddings=40)
    ),
}



@pytest.fixture
def build() -> Callable[[str], transformers.PreTrainedModel]:
    """Factory fixture: ``build(model_type)`` -> a seeded, randomly initialised 3-layer model."""

    def make(model_type: str) -> transformers.PreTrainedModel:
        torch.manual_seed(0)
        return BUILDERS[model_type]()

    return make


@pytest.fixture
def calibration() -> list[dict[str, torch.Tensor]]:
    """Two right-padded batches of token ids in [3, 40)."""
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(3, 40, (6, 10), generator=generator)
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0
    mask[4, 5:] = 0
    ids = ids * mask
    return [{"input_ids": ids[:3], "attention_mask": mask[:3]}, {"input_ids": ids[3:], "attention_mask": mask[3:]}]
