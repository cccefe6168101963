"""The scoring API on every supported architecture (the same calls, the same guarantees)."""

from __future__ import annotations

import math

import pytest

from fuseprune.models import get_adapter
from fuseprune.scoring import TraceConfig, list_references, list_signals, score_layers

ARCHS = ["bert", "gpt2", "llama", "mistral", "qwen2", "roberta"]


@pytest.mark.parametrize("arch", ARCHS)
def test_every_signal_on_every_architecture(arch, build, calibration):
    model = build(arch)
    names = list_signals() + list_references()
    table = score_layers(model, calibration, names, config=TraceConfig(mi_samples=32))
    assert table.signals == names and table.num_layers == 3 and table.model_type == arch
    assert all(math.isfinite(v) for scores in table for v in scores.raw)
    assert model.config._attn_implementation == "sdpa"


@pytest.mark.parametrize("arch", ["llama", "bert"])
def test_one_forward_one_backward_per_batch(arch, build, calibration):
    model = build(arch)
    adapter = get_adapter(model)
    forwards, backwards = [], []

    def on_last_layer(module, args, output):  # every loss gradient flows through the last layer's output
        if output.requires_grad:
            output.register_hook(lambda grad: backwards.append(1))

    handles = [
        model.register_forward_pre_hook(lambda module, args: forwards.append(1)),
        adapter.layers[-1].register_forward_hook(on_last_layer),
    ]
    score_layers(model, calibration, [s for s in list_signals() if s != "conductance"])
    for handle in handles:
        handle.remove()
    assert (len(forwards), len(backwards)) == (len(calibration), len(calibration))
