"""The single-pass guarantee and the state restored after a trace."""

from __future__ import annotations

import pytest
import torch

from fuseprune.models import get_adapter
from fuseprune.scoring import SIGNALS, list_signals, score_layers, trace_layers


@pytest.mark.parametrize("sizes", [[8], [3, 5]])
def test_all_signals_one_forward_one_backward_per_batch(gpt2, rows, split, counter, sizes):
    batches = split(*rows(), sizes)
    n = len(batches)
    calls = counter(gpt2, gpt2.transformer.ln_f)
    score_layers(gpt2, batches, [s for s in list_signals() if s != "conductance"])
    assert (calls.forwards, calls.backwards) == (n, n)
    # conductance adds exactly one captum forward and one backward per batch, for all layers at once
    calls.forwards = calls.backwards = 0
    score_layers(gpt2, batches, list_signals())
    calls.remove()
    assert (calls.forwards, calls.backwards) == (2 * n, 2 * n)


def test_forward_only_signals_make_no_backward(gpt2, gpt2_batches, counter):
    backward_needs = {"gradients", "output_gradients", "attribution"}
    forward_only = [s for s in list_signals() if not SIGNALS.get(s).needs & backward_needs]
    calls = counter(gpt2, gpt2.transformer.ln_f)
    score_layers(gpt2, gpt2_batches, forward_only)
    calls.remove()
    assert (calls.forwards, calls.backwards) == (len(gpt2_batches), 0)


def test_weight_signals_make_no_pass(gpt2, gpt2_batches, counter):
    calls = counter(gpt2, gpt2.transformer.ln_f)
    score_layers(gpt2, gpt2_batches, ["weight_norm", "weight_entropy"])
    calls.remove()
    assert calls.forwards == 0


def test_trace_keeps_only_what_is_needed(gpt2, gpt2_batches):
    trace = trace_layers(get_adapter(gpt2), gpt2_batches, {"activations"})
    assert trace.hidden is not None
    assert (trace.attention, trace.gates, trace.gradients, trace.samples, trace.attribution) == (None,) * 5
    # memory does not grow with the data: recorders hold per-layer sums only
    assert trace.hidden.out_mean.shape == (3, gpt2.config.n_embd)
    assert (trace.n_batches, trace.n_tokens) == (2, sum(int(b["attention_mask"].sum()) for b in gpt2_batches))


def test_model_state_is_restored(gpt2, gpt2_batches):
    gpt2.train()
    gpt2.transformer.h[0].attn.c_attn.weight.requires_grad_(False)
    before = {k: v.clone() for k, v in gpt2.state_dict().items()}
    score_layers(gpt2, gpt2_batches)
    assert gpt2.training
    assert gpt2.config._attn_implementation == "sdpa"
    assert gpt2.transformer.h[0].attn.c_attn.weight.requires_grad is False
    assert all(p.grad is None for p in gpt2.parameters())
    assert all(torch.equal(before[k], v) for k, v in gpt2.state_dict().items())
    assert not any(layer._forward_hooks for layer in gpt2.transformer.h)


def test_dropout_is_off_during_scoring(make_gpt2, gpt2_batches):
    # With heavy dropout a train-mode pass would make scores random; eval mode makes them repeatable.
    model = make_gpt2(resid_pdrop=0.5, embd_pdrop=0.5, attn_pdrop=0.5)
    model.train()
    one = score_layers(model, gpt2_batches, ["act_norm", "taylor"])
    two = score_layers(model, gpt2_batches, ["act_norm", "taylor"])
    assert one["act_norm"] == two["act_norm"] and one["taylor"] == two["taylor"]


def test_trace_config_validation_and_round_trip():
    from fuseprune.errors import ConfigError
    from fuseprune.scoring import TraceConfig

    assert TraceConfig.from_dict(TraceConfig(mi_samples=64).to_dict()) == TraceConfig(mi_samples=64)
    with pytest.raises(ConfigError, match="`mi_samples` must be at least 16; got 4."):
        TraceConfig(mi_samples=4)
    with pytest.raises(ConfigError, match="bogus"):
        TraceConfig.from_dict({"bogus": 1})
