"""Hostile input to `fuseprune compress`: one `error:` line, exit code 2, nothing written."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture()
def model(tiny_model_dir, tmp_path):
    """A copy of the tiny Wisconsin model inside the folder the test watches."""
    return shutil.copytree(tiny_model_dir, tmp_path / "model")


def test_an_unknown_method_lists_the_known_ones(refused, model, tmp_path):
    refused(["compress", model, "--methods", "depth,prune", "--out", tmp_path / "out"], tmp_path,
            "unknown compression method 'prune'; known: all, depth, sparsity, svd, tucker, tt, int8.")


@pytest.mark.parametrize("target", ["0", "1.5", "-1", "nan"])
def test_a_target_outside_zero_to_one(refused, model, tmp_path, target):
    refused(["compress", model, "--target-quality", target, "--out", tmp_path / "out"], tmp_path,
            "argument --target-quality: must be a finite number greater than 0 and at most 1")


def test_a_sparsity_of_one(refused, model, tmp_path):
    refused(["compress", model, "--sparsity", "0.5,1", "--out", tmp_path / "out"], tmp_path,
            "argument --sparsity: must be comma-separated numbers, each at least 0 and below 1; got '0.5,1'")


def test_an_unknown_depth_strategy(refused, model, tmp_path):
    refused(["compress", model, "--depth-strategy", "fusion", "--out", tmp_path / "out"], tmp_path,
            "unknown strategy 'fusion'; known:")


def test_a_model_folder_that_does_not_exist(refused, tmp_path):
    refused(["compress", tmp_path / "nothing", "--data", "breast-cancer-wisconsin", "--out", tmp_path / "out"],
            tmp_path)


def test_an_out_folder_fuseprune_did_not_write(refused, model, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    refused(["compress", model, "--out", tmp_path / "mine"], tmp_path, "was not written by fuseprune")


def test_resuming_a_search_with_other_settings(refused, model, tmp_path):
    from fuseprune.explore import CandidateStore, ExploreConfig
    from fuseprune.pruning.fingerprint import fingerprint_model
    from fuseprune.tabular import TabularGPT

    config = ExploreConfig(model=str(model), data="breast-cancer-wisconsin", methods=("depth",))
    CandidateStore(tmp_path / "out", config, fingerprint_model(TabularGPT.load(model).model).weights_sha256)
    refused(["compress", model, "--methods", "depth", "--target-quality", "0.95", "--out", tmp_path / "out"],
            tmp_path, "holds a search with other settings (target_quality: 0.99 there, 0.95 here)")


def test_a_rank_above_the_layers(refused, model, tmp_path):
    # the tiny model's feed-forward projections are 32 x 128: Tucker modes [8, 4] x [16, 8], largest rank 16
    refused(["compress", model, "--methods", "tucker", "--tucker", "8,64", "--out", tmp_path / "out"], tmp_path,
            "`rank` 64 is above the largest tucker rank of transformer.h.0.mlp.c_fc")
