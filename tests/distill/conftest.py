"""Shared fixtures for the distillation tests: pruned copies of tiny teachers, fixed rows, KL on them."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import pytest
import torch
import transformers
from torch import nn

from fuseprune.distill import token_kl
from fuseprune.tabular import TabularGPT


def prune_copy(model: transformers.GPT2LMHeadModel, kept: Sequence[int]) -> transformers.GPT2LMHeadModel:
    """A deep copy of a GPT-2 keeping only the layers ``kept`` (config and layer indices updated)."""
    student = copy.deepcopy(model)
    student.transformer.h = nn.ModuleList(student.transformer.h[i] for i in kept)
    student.config.n_layer = len(kept)
    for index, block in enumerate(student.transformer.h):
        block.attn.layer_idx = index
    return student


def prune_bundle(bundle: TabularGPT, kept: Sequence[int], dropout: float = 0.0) -> TabularGPT:
    """A tabular student: the bundle's network with only layers ``kept``; dropout set on every module."""
    model = prune_copy(bundle.model, kept)
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = dropout
    return TabularGPT(model, bundle.codec, copy.deepcopy(bundle.info))


def tiny_gpt2(n_layer: int = 3, n_embd: int = 16, seed: int = 0) -> transformers.GPT2LMHeadModel:
    """A randomly initialised GPT-2 over 40 tokens."""
    torch.manual_seed(seed)
    config = transformers.GPT2Config(
        n_layer=n_layer, n_embd=n_embd, n_head=2, vocab_size=40, n_positions=32, bos_token_id=0, eos_token_id=0
    )
    return transformers.GPT2LMHeadModel(config).eval()


@torch.no_grad()
def mean_kl(student: nn.Module, teacher: nn.Module, ids: torch.Tensor, bias: torch.Tensor | None = None) -> float:
    """Mean KL(teacher || student) per position at T = 1 on full rows ``ids`` under ``bias``."""
    was = student.training
    student.eval()
    kl = token_kl(student(input_ids=ids).logits[:, :-1], teacher.eval()(input_ids=ids).logits[:, :-1], 1.0, bias)
    student.train(was)
    return float(kl.mean())


def state_bytes(model: nn.Module) -> dict[str, bytes]:
    """Exact bytes of every tensor of the state dict (for bit-identity checks)."""
    return {k: v.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
            for k, v in model.state_dict().items()}


@pytest.fixture
def pruned():
    """Factory fixture: ``pruned(bundle, kept, dropout=0.0) -> TabularGPT``."""
    return prune_bundle


@pytest.fixture
def fixed_rows(tiny_bundle, wisconsin) -> tuple[torch.Tensor, torch.Tensor]:
    """64 encoded rows of the table and their logit bias."""
    ids = tiny_bundle.codec.encode(wisconsin.frame.iloc[:64])
    return ids, tiny_bundle.codec.logit_bias(ids)


@pytest.fixture
def prune_model():
    """Factory fixture: ``prune_model(gpt2, kept) -> GPT2LMHeadModel``."""
    return prune_copy


@pytest.fixture
def make_gpt2():
    """Factory fixture: ``make_gpt2(n_layer=3, n_embd=16, seed=0) -> GPT2LMHeadModel``."""
    return tiny_gpt2


@pytest.fixture
def kl_of():
    """Factory fixture: ``kl_of(student, teacher, ids, bias=None) -> float`` (mean KL at T = 1)."""
    return mean_kl


@pytest.fixture
def state_of():
    """Factory fixture: ``state_of(model) -> {name: bytes}``."""
    return state_bytes
