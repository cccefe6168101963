from __future__ import annotations

import copy

import pytest
import torch
from transformers import GPT2LMHeadModel

from fuseprune.errors import ModelError, OutputError, PathNotFoundError
from fuseprune.tabular import PRESETS, TableCodec, TabularGPT, build_model


def test_presets_have_the_documented_shapes():
    assert [(p, PRESETS.get(p).n_layer, PRESETS.get(p).n_head, PRESETS.get(p).n_embd) for p in PRESETS.names()] == [
        ("deep", 12, 4, 64),
        ("default", 6, 4, 128),
        ("seed", 6, 12, 768),
        ("tiny", 2, 2, 32),
    ]


def test_seed_preset_is_the_43m_parameter_baseline(wisconsin):
    codec = TableCodec.fit(wisconsin.frame, wisconsin.kinds)
    model = build_model(codec, "seed")
    # 6 blocks x (12 d^2 + 13 d) + 2 d (final norm) + (vocab + positions) x d, with d = 768:
    d = 768
    expected = 6 * (12 * d * d + 13 * d) + 2 * d + (codec.vocab_size + codec.sequence_length) * d
    assert sum(p.numel() for p in model.parameters()) == expected
    assert 42e6 < expected < 44e6


def test_build_model_leaves_the_callers_rng_alone_and_depends_on_the_seed_only(tiny_bundle):
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = build_model(tiny_bundle.codec, "tiny", seed=7)
    assert torch.equal(torch.get_rng_state(), before)  # the caller's global RNG is where it was
    torch.manual_seed(999)
    second = build_model(tiny_bundle.codec, "tiny", seed=7)
    # the weights are those of a model initialised right after torch.manual_seed(7), whatever the caller's RNG
    torch.manual_seed(7)
    reference = GPT2LMHeadModel(copy.deepcopy(first.config))
    for name, weights in reference.state_dict().items():
        assert torch.equal(first.state_dict()[name], weights) and torch.equal(second.state_dict()[name], weights), name


def test_model_is_sized_for_the_codec(tiny_bundle):
    config = tiny_bundle.model.config
    assert config.vocab_size == tiny_bundle.codec.vocab_size == 95
    assert config.n_positions == tiny_bundle.codec.sequence_length == 12
    assert tiny_bundle.model.lm_head.weight.data_ptr() == tiny_bundle.model.transformer.wte.weight.data_ptr()


def test_save_and_load_round_trip_without_pickle(tiny_bundle, tiny_model_dir):
    files = sorted(p.name for p in tiny_model_dir.iterdir())
    assert "model.safetensors" in files and "codec.json" in files and "fuseprune.json" in files
    assert not [f for f in files if f.endswith((".bin", ".pt", ".pkl"))]
    loaded = TabularGPT.load(tiny_model_dir)
    ids = tiny_bundle.codec.encode(tiny_bundle_frame(tiny_bundle))
    with torch.no_grad():
        assert torch.equal(loaded.model(input_ids=ids).logits, tiny_bundle.model.eval()(input_ids=ids).logits)
    assert loaded.codec == tiny_bundle.codec
    assert loaded.info["data"]["source"] == "breast-cancer-wisconsin"


def tiny_bundle_frame(bundle):
    from fuseprune.data import load_table

    return load_table("breast-cancer-wisconsin").frame.head(8)


def test_interrupted_save_leaves_nothing_under_the_target(tiny_bundle, tmp_path, monkeypatch):
    def broken_save(self, folder):
        raise OSError("disk full")

    monkeypatch.setattr(TableCodec, "save", broken_save)
    with pytest.raises(OSError):
        tiny_bundle.save(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_save_replaces_a_model_folder_it_wrote_but_not_a_folder_of_the_user(tiny_bundle, tmp_path):
    target = tmp_path / "model"
    tiny_bundle.save(target)
    (target / "codec.json").write_text("{}")  # a size change fuseprune did not make
    with pytest.raises(OutputError, match="holds 'codec.json', changed since fuseprune wrote it"):
        tiny_bundle.save(target)
    tiny_bundle.save(target, overwrite=True)
    tiny_bundle.save(target)  # a folder fuseprune wrote, unchanged: replaced without asking
    (target / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="holds 'notes.txt', which fuseprune did not write; pick another path"):
        tiny_bundle.save(target)
    assert (target / "notes.txt").read_text() == "mine"
    tiny_bundle.save(target, overwrite=True)
    assert not (target / "notes.txt").exists() and TabularGPT.load(target).codec == tiny_bundle.codec
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_load_errors_name_the_problem(tmp_path):
    with pytest.raises(PathNotFoundError, match="does not exist"):
        TabularGPT.load(tmp_path / "nope")
    with pytest.raises(ModelError, match="no config.json"):
        TabularGPT.load(tmp_path)
