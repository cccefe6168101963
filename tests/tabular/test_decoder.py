"""The lean GPT-2 decoder computes the same logits as the transformers forward pass, at every step."""

from __future__ import annotations

import warnings

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from fuseprune.errors import ModelError
from fuseprune.pruning import remove_layers, save_pruned
from fuseprune.tabular.decoder import HFStepper, LeanGPT2, make_stepper, unsupported_reason

VOCAB, LENGTH, ROWS = 40, 9, 5
CONFIGS = {
    "plain": {},
    "inverse-layer-scaling": {"scale_attn_by_inverse_layer_idx": True},
    "unscaled": {"scale_attn_weights": False},
    "relu-narrow-mlp": {"activation_function": "relu", "n_inner": 24},
    "exact-gelu": {"activation_function": "gelu"},
    "quick-gelu": {"activation_function": "quick_gelu"},  # no fused version: the model's own module is used
    "other-epsilon": {"layer_norm_epsilon": 1e-3},
}


def tiny_gpt2(seed: int = 0, **flags) -> GPT2LMHeadModel:
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=VOCAB, n_positions=LENGTH, n_embd=16, n_layer=4, n_head=2,
                        bos_token_id=1, eos_token_id=2, pad_token_id=0, **flags)
    model = GPT2LMHeadModel(config).eval()
    with torch.no_grad():  # biases and norms away from 0 / 1 and peaked attention, so a forgotten detail shows
        for name, param in model.named_parameters():
            if name.endswith(("bias", "ln_1.weight", "ln_2.weight", "ln_f.weight")):
                param.add_(torch.randn_like(param) * 0.3)
            if name.endswith("attn.c_attn.weight"):
                param.mul_(15.0)
    return model


def stepwise_logits(stepper, ids: torch.Tensor, low: int = 0, high: int = VOCAB) -> torch.Tensor:
    stepper.reset(len(ids), ids.shape[1])
    return torch.stack([stepper.logits(ids[:, t], t, low, high) for t in range(ids.shape[1])], dim=1)


def reference_logits(model: GPT2LMHeadModel, ids: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=ids).logits


def lean(model: GPT2LMHeadModel) -> LeanGPT2:
    """The lean decoder of ``model``; skipped where the installed transformers scales attention otherwise."""
    reason = unsupported_reason(model)
    if reason is not None and "transformers version" in reason:
        pytest.skip(reason)  # transformers < 5.2x: such models are decoded by their own forward pass
    assert reason is None
    return LeanGPT2(model)


@pytest.fixture
def ids() -> torch.Tensor:
    return torch.randint(0, VOCAB, (ROWS, LENGTH), generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_lean_logits_equal_the_transformers_forward_at_every_step(name, ids):
    model = tiny_gpt2(**CONFIGS[name])
    expected = reference_logits(model, ids)
    torch.testing.assert_close(stepwise_logits(lean(model), ids), expected, atol=1e-5, rtol=0)
    # a slice of the vocabulary is the same slice of the logits
    torch.testing.assert_close(stepwise_logits(lean(model), ids, 7, 19), expected[..., 7:19], atol=1e-5, rtol=0)


def test_rows_with_a_shared_prefix_are_computed_once_and_exactly(ids):
    model = tiny_gpt2(scale_attn_by_inverse_layer_idx=True)
    ids[:, 0] = 1  # every row starts with BOS, as sampled rows do
    ids[[2, 4], :3] = ids[0, :3]  # rows 0, 2, 4 share their first three tokens; rows 1, 3 their first two
    ids[3, :2] = ids[1, :2]
    groups = {0: ([0], [0] * ROWS), 1: ([0, 1], [0, 1, 0, 1, 0]), 2: ([0, 1, 3], [0, 1, 0, 2, 0])}
    decoder = lean(model)
    decoder.reset(ROWS, LENGTH)
    steps = []
    for t in range(LENGTH):
        shared = groups.get(t)
        shared = None if shared is None else (torch.tensor(shared[0]), torch.tensor(shared[1]))
        steps.append(decoder.logits(ids[:, t], t, 0, VOCAB, shared))
    torch.testing.assert_close(torch.stack(steps, dim=1), reference_logits(model, ids), atol=1e-5, rtol=0)
    assert decoder.rows_computed == [1, 2, 3] + [ROWS] * (LENGTH - 3)


def test_the_buffers_are_reused_across_batches_of_other_sizes(ids):
    model = tiny_gpt2()
    decoder = lean(model)
    stepwise_logits(decoder, ids[:2])  # leaves a cache of 2 rows behind
    torch.testing.assert_close(stepwise_logits(decoder, ids), reference_logits(model, ids), atol=1e-5, rtol=0)
    fewer = ids[1:4, :5].clone()  # fewer and shorter rows than the buffers hold
    torch.testing.assert_close(stepwise_logits(decoder, fewer), reference_logits(model, fewer), atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "flags", [{}, {"scale_attn_by_inverse_layer_idx": True}], ids=["plain", "inverse-layer-scaling"]
)
def test_pruned_models_decode_exactly_in_memory_and_reloaded(flags, ids, tmp_path):
    model = tiny_gpt2(**flags)
    pruned = remove_layers(model, [0, 2])  # layer 1 -> 0 and 3 -> 1: the scaling depends on the index
    torch.testing.assert_close(stepwise_logits(lean(pruned), ids), reference_logits(pruned, ids), atol=1e-5, rtol=0)
    save_pruned(pruned, tmp_path / "pruned")
    reloaded = GPT2LMHeadModel.from_pretrained(tmp_path / "pruned").eval()
    torch.testing.assert_close(stepwise_logits(lean(reloaded), ids), reference_logits(pruned, ids), atol=1e-5, rtol=0)


def test_transformers_stepper_matches_too_and_warns_nothing(ids):
    model = tiny_gpt2(scale_attn_by_inverse_layer_idx=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. the FutureWarning of the deprecated `past_key_values`
        logits = stepwise_logits(HFStepper(model), ids)
    torch.testing.assert_close(logits, reference_logits(model, ids), atol=1e-5, rtol=0)


@pytest.mark.parametrize("flags, reason", [
    ({"add_cross_attention": True}, "cross attention"),
    ({"reorder_and_upcast_attn": True}, "reorder_and_upcast_attn"),
])
def test_configurations_it_does_not_implement_use_the_transformers_forward(flags, reason):
    model = tiny_gpt2(**flags)
    assert reason in unsupported_reason(model)
    assert isinstance(make_stepper(model), HFStepper)
    with pytest.raises(ModelError, match=reason):
        LeanGPT2(model)


def test_what_the_lean_decoder_does_not_cover_uses_the_transformers_forward():
    model = tiny_gpt2()
    model.transformer.h[1] = torch.nn.Identity()
    assert "layer 1 is a Identity" in unsupported_reason(model)
    misnumbered = tiny_gpt2()
    misnumbered.transformer.h[2].attn.layer_idx = 0
    assert "layer 2 has layer_idx 0" in unsupported_reason(misnumbered)
    assert "float64" in unsupported_reason(tiny_gpt2().double())
    assert "training mode" in unsupported_reason(tiny_gpt2().train())
    assert isinstance(make_stepper(torch.nn.Linear(2, 2)), HFStepper)
