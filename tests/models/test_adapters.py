"""Layer adapters: finding the layer stack, config fields, skipping layers, eager attention."""

from __future__ import annotations

import copy
import logging

import pytest
import torch
import transformers
from torch import nn

from fuseprune.errors import ModelError
from fuseprune.models import ARCHITECTURES, SkippedLayer, get_adapter, supported_architectures

EXPECTED = {
    "gpt2": ("transformer.h", "n_layer", (), "causal"),
    "llama": ("model.layers", "num_hidden_layers", (), "causal"),
    "mistral": ("model.layers", "num_hidden_layers", (), "causal"),
    "qwen2": ("model.layers", "num_hidden_layers", ("layer_types",), "causal"),
    "bert": ("bert.encoder.layer", "num_hidden_layers", (), "masked"),
    "roberta": ("roberta.encoder.layer", "num_hidden_layers", (), "masked"),
}


def test_supported_architectures():
    assert supported_architectures() == sorted(EXPECTED)


@pytest.mark.parametrize("arch", sorted(EXPECTED))
def test_adapter_finds_the_layer_stack(arch, build):
    model = build(arch)
    adapter = get_adapter(model)
    path, count_field, per_layer, objective = EXPECTED[arch]
    assert (adapter.layer_path, adapter.num_layers_field, adapter.per_layer_fields, adapter.objective) == (
        path, count_field, per_layer, objective,
    )
    assert adapter.layers is model.get_submodule(path) and isinstance(adapter.layers, nn.ModuleList)
    assert adapter.num_layers == getattr(model.config, count_field) == 3
    assert "Attention" in type(adapter.attention_module(0)).__name__
    assert adapter.model_type == arch


@pytest.mark.parametrize("arch", ["gpt2", "llama", "bert"])
def test_base_models_without_head_resolve_the_short_path(arch, build):
    base = build(arch).base_model
    assert get_adapter(base).layer_path == ARCHITECTURES.get(arch).layer_path


@pytest.mark.parametrize("arch", sorted(EXPECTED))
def test_skipping_a_layer_equals_deleting_it(arch, build, calibration):
    model = build(arch).eval()
    batch = calibration[0]
    adapter = get_adapter(model)
    with torch.no_grad(), adapter.skip_layers([1]):
        assert isinstance(adapter.layers[1], SkippedLayer)
        skipped = adapter.logits(batch)
    smaller = copy.deepcopy(model)
    del smaller.get_submodule(adapter.layer_path)[1]
    with torch.no_grad():
        expected = get_adapter(smaller).logits(batch)
        intact = adapter.logits(batch)
    valid = batch["attention_mask"].bool()
    torch.testing.assert_close(skipped[valid], expected[valid])
    assert not torch.allclose(skipped[valid], intact[valid])  # skipping really changed something
    assert type(adapter.layers[1]).__name__ != "SkippedLayer"  # restored


def test_skip_restores_layers_after_an_error(build):
    adapter = get_adapter(build("gpt2"))
    originals = list(adapter.layers)
    with pytest.raises(RuntimeError, match="boom"), adapter.skip_layers([0, 2]):
        raise RuntimeError("boom")
    assert list(adapter.layers) == originals
    with pytest.raises(ModelError, match="between 0 and 2"), adapter.skip_layers([3]):
        pass


def test_skipped_layer_output_structure():
    hidden = torch.ones(1, 2, 3)
    assert SkippedLayer()(hidden, None, use_cache=False) is hidden
    assert SkippedLayer(returns_tuple=True)(hidden_states=hidden) == (hidden,)


def test_unsupported_model_error_and_explicit_layers():
    class Stack(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])
            self.head = nn.Linear(4, 4)

    model = Stack()
    with pytest.raises(ModelError) as info:
        get_adapter(model)
    message = str(info.value)
    assert "'Stack'" in message and "bert, gpt2, llama, mistral, qwen2, roberta" in message
    assert 'layers="transformer.h"' in message
    adapter = get_adapter(model, layers="blocks")
    assert adapter.num_layers == 2 and adapter.num_layers_field is None and adapter.attention_module(0) is None
    with pytest.raises(ModelError, match="submodule"):
        get_adapter(model, layers="nope")
    with pytest.raises(ModelError, match="nn.ModuleList; 'head' is a Linear"):
        get_adapter(model, layers="head")


def test_explicit_layers_on_a_known_model_keep_its_spec(build):
    adapter = get_adapter(build("gpt2"), layers="transformer.h")
    assert adapter.num_layers_field == "n_layer" and adapter.attention_module(0) is not None


def test_eager_attention_switches_and_restores(build, caplog):
    model = build("llama")
    adapter = get_adapter(model)
    assert model.config._attn_implementation == "sdpa"
    with caplog.at_level(logging.INFO, logger="fuseprune"), adapter.eager_attention():
        assert model.config._attn_implementation == "eager"
    assert model.config._attn_implementation == "sdpa"
    assert "from 'sdpa' to 'eager'" in caplog.text
    config = transformers.GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=10, attn_implementation="eager")
    eager = transformers.GPT2LMHeadModel(config)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="fuseprune"), get_adapter(eager).eager_attention():
        pass
    assert caplog.text == ""  # already eager: nothing to switch
