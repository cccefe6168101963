"""Model fingerprints: stable across save/reload, sensitive to what matters, tied weights hashed once."""

from __future__ import annotations

import copy
import hashlib

import pytest
import torch

from fuseprune.pruning import fingerprint_model
from fuseprune.pruning.fingerprint import canonical_config, config_sha256, weights_sha256

from .conftest import build_model


@pytest.mark.parametrize("arch", ["gpt2", "qwen2", "bert"])
def test_fingerprint_survives_save_and_reload(arch, tmp_path):
    model = build_model(arch)
    model.save_pretrained(tmp_path)
    reloaded = type(model).from_pretrained(tmp_path)
    assert fingerprint_model(reloaded) == fingerprint_model(model) == fingerprint_model(copy.deepcopy(model))
    reloaded.config.use_cache = False  # a runtime switch is not part of the model
    assert fingerprint_model(reloaded) == fingerprint_model(model)


def test_fingerprint_fields():
    model = build_model("gpt2")
    found = fingerprint_model(model)
    assert (found.model_type, found.layer_path, found.num_layers) == ("gpt2", "transformer.h", 4)
    assert found.num_parameters == sum(p.numel() for p in model.parameters())  # tied embeddings once
    assert len(found.weights_sha256) == len(found.config_sha256) == 64
    assert "transformers_version" not in canonical_config(model.config)
    assert "architectures" not in canonical_config(model.config) and "n_layer" in canonical_config(model.config)


def test_one_changed_weight_changes_only_the_weights_hash():
    model = build_model("gpt2")
    before = fingerprint_model(model)
    with torch.no_grad():
        model.transformer.h[2].mlp.c_fc.bias[0] += 1e-6
    after = fingerprint_model(model)
    assert after.weights_sha256 != before.weights_sha256 and after.config_sha256 == before.config_sha256
    assert before.differences(after) == ["weights hash differs"]
    model.config.n_positions = 128
    assert config_sha256(model.config) != before.config_sha256


def test_tied_tensors_are_hashed_once_under_the_first_name():
    model = build_model("gpt2")
    state = model.state_dict()
    assert state["lm_head.weight"].data_ptr() == state["transformer.wte.weight"].data_ptr()
    without_duplicate = {k: v for k, v in state.items() if k != "transformer.wte.weight"}
    assert weights_sha256(state) == weights_sha256(without_duplicate)
    untied = dict(state, **{"lm_head.weight": state["lm_head.weight"].clone()})
    assert weights_sha256(untied) != weights_sha256(state)


def test_weights_hash_by_hand():
    tensor = torch.tensor([1.0, 2.0])
    expected = hashlib.sha256(b"a|float32|(2,)\n" + tensor.numpy().tobytes()).hexdigest()
    assert weights_sha256({"a": tensor}) == expected


def test_plain_module_has_no_config_hash(make_toy):
    found = fingerprint_model(make_toy([torch.eye(2)] * 2), layers="blocks")
    assert found.model_type is None and found.config_sha256 is None and found.num_layers == 2
