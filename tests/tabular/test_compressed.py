"""Compressed TabularGPTs: saved without pickle, reloaded with equal logits, sampled on the lean path."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import GPT2LMHeadModel

from fuseprune.compress import apply_plan, make_compression_plan
from fuseprune.compress.store import MANIFEST
from fuseprune.errors import ModelError
from fuseprune.tabular import TabularGPT, load_compressed, save_compressed
from fuseprune.tabular.decoder import LeanGPT2, unsupported_reason

REQUESTS = {
    "svd": [("svd", {"rank": 4, "target": "all"})],
    "tucker": [("tucker", {"rank": 3})],
    "tt": [("tt", {"rank": 4})],
    "depth-svd-int8": [("depth", {"remove": 1}), ("svd", {"fraction": 0.5}), ("int8", {})],
}


def compressed(bundle: TabularGPT, name: str) -> tuple[TabularGPT, object]:
    plan = make_compression_plan(bundle.model, REQUESTS[name])
    return apply_plan(bundle, plan), plan


def ids_of(bundle: TabularGPT) -> torch.Tensor:
    length = bundle.model.config.n_positions
    return torch.randint(3, bundle.model.config.vocab_size, (4, length), generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_logits_are_equal_after_a_reload(tiny_bundle, tmp_path, name):
    small, plan = compressed(tiny_bundle, name)
    folder = save_compressed(small, tmp_path / name, plan)
    assert (folder / MANIFEST).is_file()
    assert not any(p.suffix in (".bin", ".pt", ".pth", ".pkl") for p in folder.iterdir())
    again = load_compressed(folder)
    ids = ids_of(small)
    with torch.no_grad():
        assert torch.equal(again.model(ids).logits, small.model(ids).logits)
    assert again.info["compression"]["order"] == list(plan.order)


@pytest.mark.parametrize("requests", [[("depth", {"remove": 1})], [("sparsity", {"sparsity": 0.5})]])
def test_depth_and_sparsity_results_stay_plain_gpt2(tiny_bundle, tmp_path, requests):
    small = apply_plan(tiny_bundle, make_compression_plan(tiny_bundle.model, requests))
    folder = small.save(tmp_path / "plain")
    assert not (folder / MANIFEST).exists()
    plain = GPT2LMHeadModel.from_pretrained(folder).eval()
    ids = ids_of(small)
    with torch.no_grad():
        assert torch.equal(plain(ids).logits, small.model(ids).logits)


def test_a_manifest_that_does_not_match_the_weights_is_refused(tiny_bundle, tmp_path):
    small, plan = compressed(tiny_bundle, "svd")
    folder = save_compressed(small, tmp_path / "svd", plan)
    manifest = json.loads((folder / MANIFEST).read_text())
    name = next(iter(manifest["modules"]))
    manifest["modules"][name]["rank"] = 3
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="do not match its compression.json: tensors of another shape"):
        TabularGPT.load(folder)


@pytest.mark.parametrize("name", ["svd", "tucker", "tt"])
def test_compressed_models_sample_on_the_lean_path_with_the_same_logits(tiny_bundle, name):
    small, _ = compressed(tiny_bundle, name)
    assert unsupported_reason(small.model) is None
    ids = ids_of(small)
    stepper = LeanGPT2(small.model)
    stepper.reset(len(ids), ids.shape[1])
    found = torch.stack([stepper.logits(ids[:, t], t, 0, small.model.config.vocab_size)
                         for t in range(ids.shape[1])], dim=1)
    with torch.no_grad():
        expected = small.model(ids).logits
    torch.testing.assert_close(found, expected, atol=1e-5, rtol=0)


def test_an_int8_model_samples_on_the_lean_path_within_its_tolerance(tiny_bundle):
    # int8 activations are quantised per call: one row at a time vs the whole sequence differ by a few steps
    small, _ = compressed(tiny_bundle, "depth-svd-int8")
    ids = ids_of(small)
    stepper = LeanGPT2(small.model)
    stepper.reset(len(ids), ids.shape[1])
    found = torch.stack([stepper.logits(ids[:, t], t, 0, small.model.config.vocab_size)
                         for t in range(ids.shape[1])], dim=1)
    with torch.no_grad():
        expected = small.model(ids).logits
    assert (found - expected).abs().max() <= 0.05 * (expected.max() - expected.min())
