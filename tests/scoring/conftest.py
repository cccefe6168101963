"""Shared fixtures for the scoring tests: a hand-set toy model and a tiny GPT-2."""

from __future__ import annotations

import pytest
import torch
import transformers
from torch import nn


class ToyLayer(nn.Module):
    """``h -> A h`` with a hand-set matrix ``A`` (no bias, no residual)."""

    def __init__(self, matrix: torch.Tensor) -> None:
        super().__init__()
        self.linear = nn.Linear(matrix.shape[1], matrix.shape[0], bias=False)
        with torch.no_grad():
            self.linear.weight.copy_(matrix)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.linear(hidden)


class ToyLM(nn.Module):
    """Embedding -> ToyLayers -> linear head; returns logits ``[B, T, V]``.

    Args:
        embed: Token embeddings ``[V, D]``.
        matrices: One ``[D, D]`` matrix per layer.
        head: Output weights ``[V, D]`` (logit_v = head[v] . h).
    """

    def __init__(self, embed: torch.Tensor, matrices: list[torch.Tensor], head: torch.Tensor) -> None:
        super().__init__()
        self.embed = nn.Embedding.from_pretrained(embed.float(), freeze=False)
        self.layers = nn.ModuleList(ToyLayer(m.float()) for m in matrices)
        self.head = nn.Linear(head.shape[1], head.shape[0], bias=False)
        with torch.no_grad():
            self.head.weight.copy_(head.float())

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        hidden = self.embed(input_ids)
        for layer in self.layers:
            hidden = layer(hidden)
        return self.head(hidden)


IDENTITY = torch.eye(2)
SCALE_2 = 2 * torch.eye(2)
ROTATE_90 = torch.tensor([[0.0, -1.0], [1.0, 0.0]])


@pytest.fixture
def toy() -> ToyLM:
    """The hand-checked stack: identity, scale by 2, rotate by 90 degrees (D = 2).

    Embeddings: token 0 -> (1, 0), token 1 -> (0, 1), token 2 -> (1, 1).
    Head: logit_0 = h[0], logit_1 = h[1], logit_2 = 0.
    On the row [2, 0] the hidden states are
      t=0: (1,1) -L0-> (1,1) -L1-> (2,2) -L2-> (-2,2)
      t=1: (1,0) -L0-> (1,0) -L1-> (2,0) -L2-> (0,2)
    """
    embed = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    head = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    return ToyLM(embed, [IDENTITY, SCALE_2, ROTATE_90], head)


@pytest.fixture
def toy_batches() -> list[dict[str, torch.Tensor]]:
    """One batch with the single row [2, 0]."""
    return [{"input_ids": torch.tensor([[2, 0]])}]


def first_logit_loss(logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean of logit_0 over the target positions (all but the last): a linear, hand-checkable loss."""
    return logits[:, :-1, 0].mean()


def tiny_gpt2(n_layer: int = 3, seed: int = 0, **overrides: object) -> transformers.GPT2LMHeadModel:
    """A randomly initialised 16-wide GPT-2 (SDPA attention, as from_pretrained would load it)."""
    torch.manual_seed(seed)
    config = transformers.GPT2Config(
        n_layer=n_layer, n_embd=16, n_head=2, vocab_size=40, n_positions=32, bos_token_id=0, eos_token_id=0, **overrides
    )
    return transformers.GPT2LMHeadModel(config)


@pytest.fixture
def gpt2() -> transformers.GPT2LMHeadModel:
    """A 3-layer tiny GPT-2."""
    return tiny_gpt2()


def random_rows(n_rows: int = 8, length: int = 12, vocab: int = 40, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Random token rows with lengths from ``length // 2`` to ``length``, right-padded (mask 0)."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, vocab, (n_rows, length), generator=generator)
    lengths = torch.randint(length // 2, length + 1, (n_rows,), generator=generator)
    mask = (torch.arange(length)[None, :] < lengths[:, None]).long()
    return ids * mask, mask


def split_batches(ids: torch.Tensor, mask: torch.Tensor, sizes: list[int]) -> list[dict[str, torch.Tensor]]:
    """Split rows into consecutive batches of ``sizes`` rows, trimming each batch's trailing padding."""
    batches, start = [], 0
    for size in sizes:
        part_ids, part_mask = ids[start : start + size], mask[start : start + size]
        width = int(part_mask.sum(dim=1).max())
        batches.append({"input_ids": part_ids[:, :width], "attention_mask": part_mask[:, :width]})
        start += size
    return batches


@pytest.fixture
def gpt2_batches() -> list[dict[str, torch.Tensor]]:
    """Two right-padded batches of four rows each."""
    ids, mask = random_rows()
    return split_batches(ids, mask, [4, 4])


@pytest.fixture
def make_gpt2():
    """Factory fixture: ``make_gpt2(n_layer=3, seed=0, **config_overrides)``."""
    return tiny_gpt2


@pytest.fixture
def rows():
    """Factory fixture: ``rows(n_rows, length, vocab, seed) -> (ids, mask)`` right-padded."""
    return random_rows


@pytest.fixture
def split():
    """Factory fixture: ``split(ids, mask, sizes) -> batches``."""
    return split_batches


@pytest.fixture
def linear_loss():
    """The hand-checkable ``loss_fn``: mean of logit 0 over target positions."""
    return first_logit_loss


@pytest.fixture
def make_toy():
    """Factory fixture: ``make_toy(embed, matrices, head) -> ToyLM``."""
    return ToyLM


class CallCounter:
    """Counts forward calls of a module and backward passes through a tensor it produces.

    ``forwards``: forward pre-hook on ``top``.
    ``backwards``: a tensor hook on the output of ``probe`` (a module every loss
    gradient flows through, e.g. the final layer norm); it fires once per backward.
    """

    def __init__(self, top: nn.Module, probe: nn.Module) -> None:
        self.forwards = 0
        self.backwards = 0
        self._handles = [top.register_forward_pre_hook(self._on_forward), probe.register_forward_hook(self._on_probe)]

    def _on_forward(self, module: nn.Module, args: tuple) -> None:
        self.forwards += 1

    def _on_probe(self, module: nn.Module, args: tuple, output: torch.Tensor) -> None:
        if output.requires_grad:
            output.register_hook(self._on_backward)

    def _on_backward(self, grad: torch.Tensor) -> None:
        self.backwards += 1

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


@pytest.fixture
def counter():
    """Factory fixture: ``counter(top, probe) -> CallCounter``."""
    return CallCounter


@pytest.fixture
def uniform_gpt2() -> transformers.GPT2LMHeadModel:
    """2-layer GPT-2 whose q and k projections are zero: each query attends uniformly to its causal prefix."""
    model = tiny_gpt2(n_layer=2)
    d = model.config.n_embd
    with torch.no_grad():
        for block in model.transformer.h:
            block.attn.c_attn.weight[:, : 2 * d] = 0.0  # Conv1D weight [d, 3d]: q | k | v
            block.attn.c_attn.bias[: 2 * d] = 0.0
    return model


@pytest.fixture
def uniform_bert() -> transformers.BertForMaskedLM:
    """2-layer BERT with zero q and k: each query attends uniformly to all non-padding keys."""
    torch.manual_seed(0)
    config = transformers.BertConfig(
        num_hidden_layers=2, hidden_size=16, num_attention_heads=2, intermediate_size=32, vocab_size=40,
        max_position_embeddings=32,
    )
    model = transformers.BertForMaskedLM(config)
    with torch.no_grad():
        for layer in model.bert.encoder.layer:
            for proj in (layer.attention.self.query, layer.attention.self.key):
                proj.weight.zero_()
                proj.bias.zero_()
    return model


@pytest.fixture
def padded_pair() -> dict[str, torch.Tensor]:
    """Rows of 4 and 2 (+2 padding) tokens."""
    ids = torch.tensor([[1, 2, 3, 4], [5, 6, 0, 0]])
    return {"input_ids": ids, "attention_mask": (ids != 0).long()}
