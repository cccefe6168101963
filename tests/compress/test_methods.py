"""Compression methods on tiny models, with expected values worked out by hand."""

from __future__ import annotations

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel
from transformers.pytorch_utils import Conv1D

from fuseprune.compress import (
    COMPRESSIONS,
    CompressionPlan,
    LowRankLinear,
    TTLinear,
    TuckerLinear,
    apply_plan,
    apply_to_model,
    make_compression_plan,
    nonzero_parameters,
)
from fuseprune.compress.lowrank import factorise
from fuseprune.compress.modules import balanced_modes
from fuseprune.compress.tensorized import TensorTrain, Tucker, tt_ranks, tucker_ranks
from fuseprune.errors import ConfigError, UnknownNameError


def tiny_gpt2(layers: int = 3, width: int = 16, seed: int = 0) -> GPT2LMHeadModel:
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=20, n_positions=8, n_embd=width, n_layer=layers, n_head=2,
                        bos_token_id=0, eos_token_id=1, pad_token_id=2)
    return GPT2LMHeadModel(config).eval()


def one_layer_with(weight: list[list[float]], layers: int = 1) -> GPT2LMHeadModel:
    """A 1-layer GPT-2 of width 2 whose first projection (c_attn, 2 x 6) is ``weight``; other projections 9."""
    config = GPT2Config(vocab_size=5, n_positions=4, n_embd=2, n_layer=layers, n_head=1, n_inner=3,
                        bos_token_id=0, eos_token_id=1, pad_token_id=2)
    model = GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        for block in model.transformer.h:
            for module in (block.attn.c_attn, block.attn.c_proj, block.mlp.c_fc, block.mlp.c_proj):
                module.weight.fill_(9.0)
        model.transformer.h[0].attn.c_attn.weight.copy_(torch.tensor(weight))
    return model


def test_the_registry_holds_every_method():
    assert COMPRESSIONS.names() == ["depth", "int8", "sparsity", "svd", "tt", "tucker"]


def test_an_unknown_method_is_refused_listing_the_known_ones():
    with pytest.raises(UnknownNameError, match="known: depth, int8, sparsity, svd, tt, tucker"):
        make_compression_plan(tiny_gpt2(), [("prune-it", {})])


@pytest.mark.parametrize("value", [-0.1, 1.0, 1.5, True])
def test_sparsity_outside_zero_one_is_refused(value):
    with pytest.raises(ConfigError, match="`sparsity` must be at least 0 and below 1"):
        COMPRESSIONS.get("sparsity").options({"sparsity": value})


def test_an_unknown_option_is_refused_by_name():
    with pytest.raises(ConfigError, match="compression 'svd' has no option ranq; its options: rank"):
        COMPRESSIONS.get("svd").options({"ranq": 3})


def test_layer_sparsity_zeroes_exactly_the_smallest_weights_of_each_matrix():
    # c_attn is 2 x 6 = 12 weights; 0.25 of them (3) go: the magnitudes 0.1, -0.2 and 0.3
    weight = [[0.5, -0.2, 3.0, 0.1, -4.0, 0.6], [0.3, 2.0, -0.7, 1.0, 0.8, -5.0]]
    model = one_layer_with(weight)
    plan = make_compression_plan(model, [("sparsity", {"sparsity": 0.25, "scope": "layer"})])
    pruned = apply_to_model(model, plan)
    expected = [[0.5, 0.0, 3.0, 0.0, -4.0, 0.6], [0.0, 2.0, -0.7, 1.0, 0.8, -5.0]]
    assert torch.equal(pruned.transformer.h[0].attn.c_attn.weight, torch.tensor(expected))
    # the other matrices (all 9s) lose their first floor(0.25 n) weights, ties broken by position
    assert plan.steps[0].options["counts"] == {"transformer.h.0.attn.c_attn.weight": 3,
                                               "transformer.h.0.attn.c_proj.weight": 1,
                                               "transformer.h.0.mlp.c_fc.weight": 1,
                                               "transformer.h.0.mlp.c_proj.weight": 1}


def test_global_sparsity_takes_the_smallest_over_all_matrices():
    # 12 + 4 + 6 + 6 = 28 weights; 0.25 -> 7 go, all of them in c_attn (the others are 9): its 7 smallest
    weight = [[0.5, -0.2, 3.0, 0.1, -4.0, 0.6], [0.3, 2.0, -0.7, 1.0, 0.8, -5.0]]
    model = one_layer_with(weight)
    before = nonzero_parameters(model)
    plan = make_compression_plan(model, [("sparsity", {"sparsity": 0.25})])
    pruned = apply_to_model(model, plan)
    expected = [[0.0, 0.0, 3.0, 0.0, -4.0, 0.0], [0.0, 2.0, 0.0, 1.0, 0.0, -5.0]]  # 0.1 .. 0.8 go, 1.0 stays
    assert torch.equal(pruned.transformer.h[0].attn.c_attn.weight, torch.tensor(expected))
    assert plan.steps[0].options["zeroed"] == 7
    assert nonzero_parameters(pruned) == before - 7


def test_svd_at_full_rank_reproduces_the_layer():
    torch.manual_seed(0)
    layer, x = Conv1D(12, 5), torch.randn(4, 5)
    factorised = factorise(layer, 5)
    assert isinstance(factorised, LowRankLinear)
    assert torch.allclose(factorised(x), layer(x), atol=1e-5)


def test_svd_rank_one_of_a_rank_one_matrix_is_exact_and_the_factors_split_the_singular_value():
    # W = [1, 2]^T [3, 0, 4] has the single singular value |[1,2]| |[3,0,4]| = sqrt(5) * 5
    layer = Conv1D(3, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[3.0, 0.0, 4.0], [6.0, 0.0, 8.0]]))
        layer.bias.zero_()
    factorised = factorise(layer, 1)
    first = factorised.first.weight.abs().flatten()
    assert first.tolist() == pytest.approx([(5 * 5**0.5) ** 0.5 / 5**0.5 * 1, (5 * 5**0.5) ** 0.5 / 5**0.5 * 2])
    assert torch.allclose(factorised(torch.eye(2)), layer.weight, atol=1e-6)


def test_svd_rank_by_fraction_and_energy():
    model = tiny_gpt2(layers=1)  # c_fc is 16 x 64: 1024 weights, a rank costs 80
    by_fraction = make_compression_plan(model, [("svd", {"fraction": 0.5})]).steps[0].options["ranks"]
    assert by_fraction == {"transformer.h.0.mlp.c_fc": 6, "transformer.h.0.mlp.c_proj": 6}  # 512 // 80
    by_energy = make_compression_plan(model, [("svd", {"energy": 1.0})]).steps[0].options["ranks"]
    assert by_energy == {"transformer.h.0.mlp.c_fc": 16, "transformer.h.0.mlp.c_proj": 16}


def test_an_svd_rank_above_the_layers_is_refused():
    with pytest.raises(ConfigError, match=r"`rank` 17 is above the rank of transformer.h.0.mlp.c_fc \(16 x 64: 16\)"):
        make_compression_plan(tiny_gpt2(layers=1), [("svd", {"rank": 17})])


@pytest.mark.parametrize("method", [Tucker(), TensorTrain()])
def test_tucker_and_tt_at_full_rank_reproduce_the_layer(method):
    torch.manual_seed(0)
    layer, x = Conv1D(24, 8), torch.randn(3, 8)
    in_modes, out_modes = balanced_modes(8, 2), balanced_modes(24, 2)
    full = (tucker_ranks if method.name == "tucker" else tt_ranks)(in_modes, out_modes)
    replaced = method.decompose(layer.weight.detach(), in_modes, out_modes, full, layer.bias.detach())
    assert isinstance(replaced, TuckerLinear if method.name == "tucker" else TTLinear)
    assert torch.allclose(replaced(x), layer(x), atol=1e-5)


def test_balanced_modes_and_full_ranks_by_hand():
    assert balanced_modes(128, 2) == (16, 8)
    assert balanced_modes(24, 3) == (3, 2, 2) or balanced_modes(24, 3) == (4, 3, 2)
    assert tucker_ranks((4, 2), (6, 4)) == [4, 2, 6, 4]
    assert tt_ranks((4, 2), (6, 4)) == [1, 8, 1]  # 24 x 8 as pairs (4*6) and (2*4): min(24, 8)


def test_a_tensor_rank_above_the_layers_is_refused():
    with pytest.raises(ConfigError, match="`rank` 400 is above the largest tt rank of transformer.h.0.mlp.c_fc"):
        make_compression_plan(tiny_gpt2(layers=1), [("tt", {"rank": 400})])


def test_int8_output_is_within_its_tolerance_of_fp32():
    # per-tensor int8 weights and per-batch int8 activations: 2 % of the logits' spread at most here
    model = tiny_gpt2(width=32)
    ids = torch.randint(0, 20, (4, 8))
    plan = make_compression_plan(model, [("int8", {})])
    quantised = apply_to_model(model, plan)
    expected, found = model(ids).logits, quantised(ids).logits
    assert (found - expected).abs().max() <= 0.02 * (expected.max() - expected.min())
    assert not torch.equal(found, expected)


def test_int8_keeps_counting_the_weights_it_stores_outside_the_parameters():
    from fuseprune.compress.base import nonzero_parameters, parameter_count

    model = tiny_gpt2(width=32)
    quantised = apply_to_model(model, make_compression_plan(model, [("int8", {})]))
    assert sum(p.numel() for p in quantised.parameters()) < parameter_count(model)  # int8 weights are buffers
    assert parameter_count(quantised) == parameter_count(model)  # the same weights, stored in 8 bits
    assert nonzero_parameters(quantised) <= parameter_count(quantised)


def test_the_composition_order_is_recorded_and_replayed_from_json(tmp_path):
    class Bundle:
        def __init__(self, model):
            self.model, self.info = model, {"data": "x"}

    model, ids = tiny_gpt2(), torch.randint(0, 20, (2, 8))
    plan = make_compression_plan(model, [("depth", {"remove": 1}), ("svd", {"rank": 4}), ("int8", {})])
    assert plan.order == ("depth", "svd", "int8")
    path = plan.save(tmp_path / "plan.json")
    replayed = CompressionPlan.load(path)
    assert replayed == plan
    bundle = Bundle(model)
    compressed = apply_plan(bundle, replayed)
    assert bundle.model.config.n_layer == 3 and compressed.model.config.n_layer == 2
    assert compressed.info["compression"]["order"] == ["depth", "svd", "int8"]
    direct = apply_to_model(model, plan)
    assert torch.equal(compressed.model(ids).logits, direct(ids).logits)


def test_a_plan_with_a_wrong_version_or_key_is_refused_in_one_line():
    with pytest.raises(ConfigError, match="`version` must be 1; got 7"):
        CompressionPlan.from_dict({"format": "fuseprune-compression-plan", "version": 7, "steps": []})
    with pytest.raises(ConfigError, match="step 1 has unknown key"):
        CompressionPlan.from_dict({"format": "fuseprune-compression-plan", "version": 1,
                                   "steps": [{"method": "svd", "option": {}}]})
