"""Hostile input to `fuseprune prune` with a compression plan: one-line refusals, nothing written."""

from __future__ import annotations

import json

import pytest

from fuseprune.compress import CompressionPlan, Step, apply_plan, make_compression_plan
from fuseprune.tabular import save_compressed

FORMAT = {"format": "fuseprune-compression-plan", "version": 1}


@pytest.fixture
def root(tiny_model_dir, tmp_path):
    return tmp_path


def write_plan(root, steps) -> str:
    path = root / "plan.json"
    path.write_text(json.dumps({**FORMAT, "steps": steps}))
    return str(path)


def test_a_rank_above_the_layers_is_refused(refused, tiny_model_dir, root):
    plan = write_plan(root, [{"method": "svd", "options": {"ranks": {"transformer.h.0.mlp.c_fc": 999}}}])
    refused(["prune", tiny_model_dir, plan, "--out", root / "out"], root,
            "the svd rank of transformer.h.0.mlp.c_fc must be between 1 and 32 (its rank); got 999.")


@pytest.mark.parametrize("value", [-0.5, 1.0])
def test_a_sparsity_outside_zero_one_is_refused(refused, tiny_model_dir, root, value):
    plan = write_plan(root, [{"method": "sparsity", "options": {"sparsity": value, "counts": {}}}])
    refused(["prune", tiny_model_dir, plan, "--out", root / "out"], root, "`sparsity` must be at least 0 and below 1")


def test_an_unknown_method_is_refused_listing_the_known_ones(refused, tiny_model_dir, root):
    plan = write_plan(root, [{"method": "prune-harder", "options": {}}])
    refused(["prune", tiny_model_dir, plan, "--out", root / "out"], root,
            "unknown compression method 'prune-harder'; known: depth, int8, sparsity, svd, tt, tucker.")


def test_a_manifest_that_does_not_match_the_weights_is_refused(refused, tiny_bundle, root):
    plan = make_compression_plan(tiny_bundle.model, [("svd", {"rank": 4})])
    folder = save_compressed(apply_plan(tiny_bundle, plan), root / "small", plan)
    manifest = json.loads((folder / "compression.json").read_text())
    manifest["modules"]["transformer.h.0.mlp.c_fc"]["rank"] = 5
    (folder / "compression.json").write_text(json.dumps(manifest))
    other = CompressionPlan((Step("int8", {"target": "all", "layers": ["transformer.h.0.attn.c_attn"]}),))
    refused(["prune", folder, other.save(root / "int8.json"), "--out", root / "out"], root,
            "do not match its compression.json")
