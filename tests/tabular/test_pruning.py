"""Pruning our TabularGPT: a plan from table rows, prune_tabular, atomic model folders."""

from __future__ import annotations

import pytest
import torch

from fuseprune.models import get_adapter
from fuseprune.pruning import PLAN_FILE, PrunePlan, fingerprint_model, save_pruned
from fuseprune.tabular import TableCodec, TabularGPT, build_model, calibration_batches, make_tabular_plan, prune_tabular
from fuseprune.tabular.model import ModelPreset

PRESET = ModelPreset("test-4", n_layer=4, n_head=2, n_embd=16, dropout=0.0, description="4 small layers")


@pytest.fixture(scope="module")
def bundle(wisconsin) -> TabularGPT:
    """An untrained 4-layer TabularGPT for the Wisconsin table."""
    codec = TableCodec.fit(wisconsin.frame, wisconsin.kinds)
    model = build_model(codec, PRESET, seed=0).eval()
    with torch.no_grad():
        for param in model.transformer.h.parameters():
            param.add_(0.2 * torch.randn_like(param))
    return TabularGPT(model, codec, {"data": {"source": "breast-cancer-wisconsin"}, "preset": "test-4"})


def test_tabular_plan_prune_save_and_load(bundle, wisconsin, tmp_path):
    train, _ = wisconsin.split()
    plan = make_tabular_plan(bundle, train, "block_influence", remove=2, protect=("first",), n_rows=32,
                             batch_size=16)
    assert len(plan.removal_order) == 2 and 0 not in plan.removal_order
    assert plan.parameters["calibration_rows"] == 32 and plan.parameters["batch_size"] == 16
    pruned = prune_tabular(bundle, plan)
    assert pruned.codec is bundle.codec and pruned.model is not bundle.model
    assert len(bundle.model.transformer.h) == 4 and bundle.model.config.n_layer == 4  # the input is unchanged
    assert "pruning" not in bundle.info and pruned.info["data"] == bundle.info["data"]
    record = pruned.info["pruning"]
    assert record["removed_layers"] == list(plan.remove) and record["kept_layers"] == list(plan.kept_layers)
    assert record["teacher"]["weights_sha256"] == plan.model.weights_sha256

    batch = calibration_batches(bundle.codec, train, n_rows=8)[0]
    adapter = get_adapter(bundle.model)
    with torch.no_grad(), adapter.skip_layers(plan.remove):
        expected = adapter.logits(batch)
    loaded = TabularGPT.load(pruned.save(tmp_path / "pruned"))
    assert loaded.model.config.n_layer == 2 and loaded.info["pruning"] == record
    with torch.no_grad():
        torch.testing.assert_close(get_adapter(loaded.model).logits(batch), expected, atol=1e-5, rtol=0)


def test_ablation_plan_uses_the_tabular_loss(bundle, wisconsin):
    _, holdout = wisconsin.split()
    plan = make_tabular_plan(bundle, holdout, "ablation", remove="50%", mode="iterative", n_rows=16)
    assert plan.mode == "iterative" and len(plan.removal_order) == 2


def test_interrupted_model_folder_writes_leave_nothing_half_written(bundle, tmp_path, monkeypatch):
    plan = PrunePlan(model=fingerprint_model(bundle.model), strategy="manual", mode="one-shot", removal_order=(1,))
    pruned = prune_tabular(bundle, plan)
    target = tmp_path / "pruned"

    def crash(folder, **kwargs):
        (folder / "config.json").write_text("{}")
        raise OSError("killed mid-write")

    monkeypatch.setattr(pruned.model, "save_pretrained", crash)
    with pytest.raises(OSError, match="killed"):
        save_pruned(pruned.model, target, plan)
    with pytest.raises(OSError, match="killed"):
        pruned.save(target)
    assert list(tmp_path.iterdir()) == []  # nothing under the target name, no temporary folder left

    monkeypatch.undo()
    save_pruned(pruned.model, target, plan)
    written = sorted(p.name for p in target.iterdir())
    assert PLAN_FILE in written and "model.safetensors" in written
    monkeypatch.setattr(pruned.model, "save_pretrained", crash)
    with pytest.raises(OSError, match="killed"):
        save_pruned(pruned.model, target, plan)
    assert sorted(p.name for p in target.iterdir()) == written and [p.name for p in tmp_path.iterdir()] == ["pruned"]
    assert PrunePlan.load(target / PLAN_FILE) == plan


def test_a_plan_from_a_trained_bundle_applies_to_its_saved_folder(tiny_bundle, tiny_model_dir, wisconsin):
    train, _ = wisconsin.split()
    plan = make_tabular_plan(tiny_bundle, train, "weight_norm", remove=1, n_rows=16)
    loaded = TabularGPT.load(tiny_model_dir)
    assert fingerprint_model(loaded.model) == plan.model  # save -> load keeps the fingerprint
    assert prune_tabular(loaded, plan).model.config.n_layer == tiny_bundle.model.config.n_layer - 1
