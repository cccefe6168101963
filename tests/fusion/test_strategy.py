from __future__ import annotations

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from fuseprune.errors import DataError
from fuseprune.fusion.strategy import ForestFusionStrategy, LinearFusionStrategy
from fuseprune.pruning import make_plan
from fuseprune.pruning.fingerprint import weights_sha256


def tiny_gpt2() -> GPT2LMHeadModel:
    torch.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(vocab_size=30, n_positions=16, n_embd=16, n_layer=4, n_head=2)).eval()


BATCHES = [{"input_ids": torch.randint(0, 30, (4, 12), generator=torch.Generator().manual_seed(1))}]


@pytest.fixture
def bank_with_model(make_bank, tmp_path):
    """A bank where data set 'b' was measured on the tiny model itself."""
    model = tiny_gpt2()
    bank = make_bank(lambda f: f["block_influence"], datasets=("a", "b", "c"))
    bank.frame.loc[bank.frame["dataset"] == "b", "model_sha256"] = weights_sha256(model.state_dict())
    return model, bank.save(tmp_path / "bank.csv")


def test_a_model_whose_rows_are_in_the_bank_is_refused(bank_with_model):
    model, path = bank_with_model
    with pytest.raises(DataError, match="own rows are in the fusion bank \\(data set b\\).*--exclude-bank-dataset b"):
        make_plan(model, BATCHES, ForestFusionStrategy(bank=path), remove=1)


@pytest.mark.parametrize("options", [{"exclude_datasets": ("b",)}, {"allow_overlap": True}])
def test_excluding_its_data_set_or_allowing_overlap_lets_it_through(bank_with_model, options):
    model, path = bank_with_model
    plan = make_plan(model, BATCHES, LinearFusionStrategy(bank=path, **options), remove=1)
    assert plan.strategy == "fusion-lr" and len(plan.fused_scores) == 4
    assert plan.parameters["strategy"]["exclude_datasets"] == list(options.get("exclude_datasets", ()))


def test_fusion_follows_the_signal_its_bank_rewards(make_bank, tmp_path):
    # the bank's impact is exactly block_influence, so linear fusion must rank like block_influence
    path = make_bank(lambda f: f["block_influence"]).save(tmp_path / "bank.csv")
    model = tiny_gpt2()
    fused = make_plan(model, BATCHES, LinearFusionStrategy(bank=path), remove=1)
    signal = make_plan(model, BATCHES, "block_influence", remove=1)
    assert fused.removal_order == signal.removal_order
