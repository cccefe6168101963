"""Tiny models of every supported architecture (and GPT-2 variants) for the pruning tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import transformers
from torch import nn

LAYERS = 4
_DECODER = dict(num_hidden_layers=LAYERS, hidden_size=16, num_attention_heads=2, num_key_value_heads=1,
                intermediate_size=32, vocab_size=40, max_position_embeddings=64, bos_token_id=1, eos_token_id=2,
                pad_token_id=0)
_ENCODER = dict(num_hidden_layers=LAYERS, hidden_size=16, num_attention_heads=2, intermediate_size=32, vocab_size=40,
                pad_token_id=0)
_GPT2 = dict(n_layer=LAYERS, n_embd=16, n_head=2, vocab_size=40, n_positions=64, bos_token_id=1, eos_token_id=2,
             pad_token_id=0)


def _gpt2(**overrides: object) -> transformers.GPT2LMHeadModel:
    return transformers.GPT2LMHeadModel(transformers.GPT2Config(**{**_GPT2, **overrides}))


BUILDERS: dict[str, Callable[[], transformers.PreTrainedModel]] = {
    "gpt2": _gpt2,
    "gpt2-scaled": lambda: _gpt2(scale_attn_by_inverse_layer_idx=True),
    "gpt2-scaled-upcast": lambda: _gpt2(scale_attn_by_inverse_layer_idx=True, reorder_and_upcast_attn=True,
                                        attn_implementation="eager"),
    "gpt2-cross": lambda: _gpt2(add_cross_attention=True, scale_attn_by_inverse_layer_idx=True),
    "llama": lambda: transformers.LlamaForCausalLM(transformers.LlamaConfig(**_DECODER)),
    "mistral": lambda: transformers.MistralForCausalLM(transformers.MistralConfig(**_DECODER, sliding_window=6)),
    "qwen2": lambda: transformers.Qwen2ForCausalLM(transformers.Qwen2Config(**_DECODER, tie_word_embeddings=True)),
    "qwen2-sliding": lambda: transformers.Qwen2ForCausalLM(
        transformers.Qwen2Config(**_DECODER, use_sliding_window=True, sliding_window=4, max_window_layers=2)
    ),
    "bert": lambda: transformers.BertForMaskedLM(transformers.BertConfig(**_ENCODER, max_position_embeddings=64)),
    "roberta": lambda: transformers.RobertaForMaskedLM(
        transformers.RobertaConfig(**_ENCODER, max_position_embeddings=72)
    ),
}
CAUSAL = ["gpt2", "gpt2-scaled", "gpt2-scaled-upcast", "llama", "mistral", "qwen2", "qwen2-sliding"]


def build_model(name: str, seed: int = 0) -> transformers.PreTrainedModel:
    """A seeded, randomly initialised 4-layer model in eval mode (float32)."""
    torch.manual_seed(seed)
    model = BUILDERS[name]().eval()
    if name.startswith("gpt2"):  # GPT-2's init is tiny: spread the weights so every layer matters
        with torch.no_grad():
            for param in model.transformer.h.parameters():
                param.add_(0.2 * torch.randn_like(param))
    return model


@pytest.fixture
def build() -> Callable[..., transformers.PreTrainedModel]:
    """Factory fixture: ``build(name, seed=0)``."""
    return build_model


def token_batch(rows: int = 3, length: int = 12, seed: int = 1) -> dict[str, torch.Tensor]:
    """Right-padded token rows in [3, 40) with an attention mask (row 1 is shorter)."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, 40, (rows, length), generator=generator)
    mask = torch.ones_like(ids)
    if rows > 1:
        mask[1, length - 3:] = 0
    return {"input_ids": ids * mask, "attention_mask": mask}


@pytest.fixture
def batch() -> dict[str, torch.Tensor]:
    """One right-padded batch of three rows of 12 tokens."""
    return token_batch()


class ToyBlock(nn.Module):
    """``h -> h + W h``: a residual layer with a hand-set matrix ``W`` and no config."""

    def __init__(self, matrix: torch.Tensor) -> None:
        super().__init__()
        self.linear = nn.Linear(matrix.shape[0], matrix.shape[0], bias=False)
        with torch.no_grad():
            self.linear.weight.copy_(matrix)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden + self.linear(hidden)


class ToyStack(nn.Module):
    """Embedding -> ToyBlocks -> tied head. Not a transformers model: name its layers with ``layers="blocks"``."""

    def __init__(self, matrices: list[torch.Tensor], vocab: int = 5) -> None:
        super().__init__()
        width = matrices[0].shape[0]
        torch.manual_seed(0)
        self.embed = nn.Embedding(vocab, width)
        self.blocks = nn.ModuleList(ToyBlock(m.float()) for m in matrices)
        self.head = nn.Linear(width, vocab, bias=False)
        self.head.weight = self.embed.weight

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        hidden = self.embed(input_ids)
        for block in self.blocks:
            hidden = block(hidden)
        return self.head(hidden)


@pytest.fixture
def make_toy() -> Callable[[list[torch.Tensor]], ToyStack]:
    """Factory fixture: ``make_toy(matrices) -> ToyStack``."""
    return ToyStack
