"""Layer surgery: the pruned model IS the original with those layers skipped, before and after reload."""

from __future__ import annotations

import copy

import pytest
import torch
import transformers

from fuseprune.errors import ConfigError, ModelError
from fuseprune.models import cache_kwargs, get_adapter, output_cache
from fuseprune.pruning import PrunePlan, apply_plan, fingerprint_model, remove_layers, save_pruned

from .conftest import BUILDERS, CAUSAL, LAYERS, build_model, token_batch

EQUIVALENCE = sorted(set(BUILDERS) - {"gpt2-cross"})
REMOVALS = [(1,), (2, 0)]


def plan_for(model: torch.nn.Module, removal: tuple[int, ...], layers: str | None = None) -> PrunePlan:
    """A hand-made plan removing ``removal`` (in that order)."""
    return PrunePlan(model=fingerprint_model(model, layers), strategy="manual", mode="one-shot",
                     removal_order=removal)


def tied_groups(model: torch.nn.Module) -> set[frozenset[str]]:
    """Parameter names that share one tensor."""
    groups: dict[int, set[str]] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        groups.setdefault(id(param), set()).add(name)
    return {frozenset(g) for g in groups.values() if len(g) > 1}


def layer_indices(model: torch.nn.Module) -> list[list[int]]:
    """The ``layer_idx`` of every submodule of every layer, per layer."""
    return [[m.layer_idx for m in layer.modules() if isinstance(getattr(m, "layer_idx", None), int)]
            for layer in get_adapter(model).layers]


def snapshot(model: torch.nn.Module) -> tuple[dict[str, torch.Tensor], dict, list[list[int]]]:
    return ({k: v.clone() for k, v in model.state_dict().items()}, model.config.to_dict(), layer_indices(model))


def assert_unchanged(model: torch.nn.Module, before: tuple) -> None:
    state, config, indices = before
    after = model.state_dict()
    assert sorted(after) == sorted(state)
    assert all(torch.equal(after[k], state[k]) for k in state)
    assert model.config.to_dict() == config and layer_indices(model) == indices


def valid_logits(adapter, batch) -> torch.Tensor:
    with torch.no_grad():
        return adapter.logits(batch)[batch["attention_mask"].bool()]


@pytest.mark.parametrize("removal", REMOVALS, ids=str)
@pytest.mark.parametrize("arch", EQUIVALENCE)
def test_pruned_model_equals_the_original_with_layers_skipped(arch, removal, batch, tmp_path):
    model = build_model(arch)
    adapter = get_adapter(model)
    before, tied = snapshot(model), tied_groups(model)
    assert bool(tied) == (arch not in ("llama", "mistral", "qwen2-sliding"))  # these three do not tie by default
    with adapter.skip_layers(removal):
        expected = valid_logits(adapter, batch)
    assert not torch.allclose(expected, valid_logits(adapter, batch), atol=1e-3)  # the removed layers mattered

    pruned = apply_plan(model, plan_for(model, removal))
    assert pruned is not model
    assert_unchanged(model, before)
    kept = [i for i in range(LAYERS) if i not in removal]
    check_structure(pruned, model, kept, tied)
    torch.testing.assert_close(valid_logits(get_adapter(pruned), batch), expected, atol=1e-5, rtol=0)

    save_pruned(pruned, tmp_path / "pruned")
    reloaded = type(model).from_pretrained(tmp_path / "pruned").eval()
    check_structure(reloaded, model, kept, tied)
    torch.testing.assert_close(valid_logits(get_adapter(reloaded), batch), expected, atol=1e-5, rtol=0)
    for ours, theirs in zip(
        pruned.modules(), reloaded.modules(), strict=True
    ):  # same attention scaling in memory and reloaded
        assert getattr(ours, "scaling", None) == getattr(theirs, "scaling", None)
    if arch in CAUSAL:
        check_generation(model, reloaded, removal)


def check_structure(pruned: torch.nn.Module, original: torch.nn.Module, kept: list[int], tied: set) -> None:
    """Layer count, sliced per-layer lists, renumbered layer_idx and tied weights."""
    adapter = get_adapter(pruned)
    assert adapter.num_layers == len(kept) == getattr(pruned.config, adapter.num_layers_field)
    assert pruned.config.num_hidden_layers == len(kept)
    for name in get_adapter(original).per_layer_fields:
        assert getattr(pruned.config, name) == [getattr(original.config, name)[i] for i in kept]
    assert all(all(i == new for i in indices) and indices for new, indices in enumerate(layer_indices(pruned)))
    assert tied_groups(pruned) == tied
    for group in tied:
        params = [pruned.get_parameter(name) for name in group]
        assert all(p.data_ptr() == params[0].data_ptr() for p in params)


def check_generation(original: torch.nn.Module, pruned: torch.nn.Module, removal: tuple[int, ...]) -> None:
    """Greedy decoding with the KV cache = without it = the original with the layers skipped."""
    prompt = torch.randint(3, 40, (2, 7), generator=torch.Generator().manual_seed(3))
    options = dict(max_new_tokens=6, min_new_tokens=6, do_sample=False, pad_token_id=0)
    cached = pruned.generate(prompt, use_cache=True, **options)
    uncached = pruned.generate(prompt, use_cache=False, **options)
    with get_adapter(original).skip_layers(removal):
        reference = original.generate(prompt, use_cache=False, **options)
    assert cached.shape == (2, 13)
    assert torch.equal(cached, uncached) and torch.equal(cached, reference)


def test_gpt2_scaling_is_compensated_in_the_query_projection():
    model = build_model("gpt2-scaled")
    pruned = remove_layers(model, [0, 1])  # layer 2 -> 0 and 3 -> 1
    d = model.config.n_embd
    for new, old in [(0, 2), (1, 3)]:
        was, now = model.transformer.h[old].attn, pruned.transformer.h[new].attn
        factor = (new + 1) / (old + 1)
        torch.testing.assert_close(now.c_attn.weight[:, :d], was.c_attn.weight[:, :d] * factor)
        torch.testing.assert_close(now.c_attn.bias[:d], was.c_attn.bias[:d] * factor)
        assert torch.equal(now.c_attn.weight[:, d:], was.c_attn.weight[:, d:])  # keys and values untouched
        assert now.scaling == (d // model.config.n_head) ** -0.5 / (new + 1)
    plain = remove_layers(build_model("gpt2"), [0, 1])  # without the flag nothing is rescaled
    original = build_model("gpt2").transformer.h[2].attn.c_attn.weight
    assert torch.equal(plain.transformer.h[0].attn.c_attn.weight, original)


def _bert_decoder() -> transformers.BertLMHeadModel:
    torch.manual_seed(0)
    config = transformers.BertConfig(num_hidden_layers=LAYERS, hidden_size=16, num_attention_heads=2,
                                     intermediate_size=32, vocab_size=40, max_position_embeddings=64,
                                     is_decoder=True, add_cross_attention=True)
    return transformers.BertLMHeadModel(config).eval()


@pytest.mark.parametrize("make", [lambda: build_model("gpt2-cross"), _bert_decoder], ids=["gpt2", "bert"])
def test_cross_attention_is_renumbered_and_cached(make):
    model = make()
    ids = token_batch(rows=2, length=8, seed=4)["input_ids"].clamp(min=3)
    encoder = torch.randn(2, 5, 16, generator=torch.Generator().manual_seed(5))
    with torch.no_grad(), get_adapter(model).skip_layers([0, 2]):
        expected = model(ids, encoder_hidden_states=encoder).logits
    pruned = remove_layers(model, [0, 2])
    assert [len(i) for i in layer_indices(pruned)] == [2, 2]  # self and cross attention
    assert layer_indices(pruned) == [[0, 0], [1, 1]]
    with torch.no_grad():
        full = pruned(ids, encoder_hidden_states=encoder).logits
        head = pruned(ids[:, :-1], encoder_hidden_states=encoder, use_cache=True)
        step = pruned(ids[:, -1:], encoder_hidden_states=encoder, use_cache=True,
                      **cache_kwargs(pruned, output_cache(head))).logits
    torch.testing.assert_close(full, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(step[:, -1], full[:, -1], atol=1e-5, rtol=0)


def test_qwen2_sliding_window_layout_follows_the_kept_layers():
    model = build_model("qwen2-sliding")
    assert get_adapter(model).layer_boundary_fields == ("max_window_layers",)
    assert get_adapter(build_model("llama")).layer_boundary_fields == ()  # declared for the family, absent here
    assert model.config.layer_types == ["full_attention"] * 2 + ["sliding_attention"] * 2
    pruned = remove_layers(model, [1])
    assert pruned.config.layer_types == ["full_attention", "sliding_attention", "sliding_attention"]
    assert pruned.config.max_window_layers == 1  # the derived layout matches the sliced list
    assert [layer.self_attn.sliding_window for layer in pruned.model.layers] == [None, 4, 4]
    only_full = remove_layers(model, [2, 3])
    assert only_full.config.layer_types == ["full_attention"] * 2 and not only_full.model.has_sliding_layers


def test_inplace_changes_the_model_itself():
    model = build_model("llama")
    assert remove_layers(model, [3], inplace=True) is model
    assert len(model.model.layers) == model.config.num_hidden_layers == 3


def test_a_model_without_config_named_by_path(make_toy, tmp_path):
    toy = make_toy([torch.eye(4) * s for s in (0.5, -0.2, 0.1)])
    ids = torch.tensor([[0, 1, 2, 3, 4]])
    adapter = get_adapter(toy, layers="blocks")
    with torch.no_grad(), adapter.skip_layers([1]):
        expected = toy(ids)
    pruned = apply_plan(toy, plan_for(toy, (1,), layers="blocks"))  # the plan knows the layer path
    assert len(pruned.blocks) == 2 and pruned.head.weight is pruned.embed.weight
    with torch.no_grad():
        torch.testing.assert_close(pruned(ids), expected)
    with pytest.raises(ModelError, match="only transformers models can be saved"):
        save_pruned(pruned, tmp_path / "toy")


@pytest.mark.parametrize(
    ("indices", "message"),
    [([4], "between 0 and 3; got \\[4\\]"), ([1, 1], "unique"), ([0, 1, 2, 3], "cannot remove all 4 layers"),
     ([True], "integers"), ([-1], "between 0 and 3")],
)
def test_bad_layer_indices_are_refused(indices, message):
    model = build_model("gpt2")
    with pytest.raises(ConfigError, match=message) as info:
        remove_layers(model, indices)
    assert "\n" not in str(info.value)


def test_a_plan_for_another_model_is_refused_naming_the_field():
    model = build_model("gpt2")
    plan = plan_for(model, (1,))
    cases = {
        "weights hash differs": build_model("gpt2", seed=1),
        "layer count differs: plan 4, model 3": remove_layers(model, [0]),
        "architecture differs: plan gpt2, model llama": build_model("llama"),
        "config hash differs": copy.deepcopy(model),
    }
    cases["config hash differs"].config.layer_norm_epsilon = 1e-3
    for expected, other in cases.items():
        with pytest.raises(ModelError, match=expected) as info:
            apply_plan(other, plan)
        assert "\n" not in str(info.value) and str(info.value).startswith("the plan was made for another model")
    assert "weights hash differs" not in _message(cases["config hash differs"], plan)
    assert "config hash differs" not in _message(cases["weights hash differs"], plan)
    with pytest.raises(ConfigError, match="must be a PrunePlan"):
        apply_plan(model, plan.to_dict())


def _message(model: torch.nn.Module, plan: PrunePlan) -> str:
    with pytest.raises(ModelError) as info:
        apply_plan(model, plan)
    return str(info.value)
