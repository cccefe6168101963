from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from fuseprune.errors import DataError, NotFittedError
from fuseprune.fusion.rank_strategy import RankFusionStrategy
from fuseprune.fusion.ranking import OUTCOME, PairwiseFusion, RankBank, context_features, preference_pairs
from fuseprune.pruning import make_plan
from fuseprune.pruning.fingerprint import weights_sha256
from fuseprune.pruning.registry import get_strategy
from fuseprune.scoring import SIGNALS


def rank_bank(outcome, datasets=("a", "b", "c"), layers=6, seed=0) -> RankBank:
    """Random keep scores per state; the outcome of each layer is ``outcome(frame)``."""
    rng = np.random.default_rng(seed)
    frames = []
    for dataset in datasets:
        for step in range(layers // 2):
            n = layers - step
            frame = context_features(n, step / layers, 64)
            for name in SIGNALS.names():
                frame[name] = rng.random(n)
            frame[OUTCOME] = outcome(frame)
            frame.insert(0, "model_sha256", f"{dataset}{step}")
            frame.insert(0, "layer", range(n))
            frame.insert(0, "state", "-".join(str(i) for i in range(step)))
            frame.insert(0, "seed", 0)
            frame.insert(0, "dataset", dataset)
            frame.insert(0, "preset", "toy")
            frames.append(frame)
    return RankBank(pd.concat(frames, ignore_index=True), {"made_by": "test"})


def tiny_gpt2() -> GPT2LMHeadModel:
    torch.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(vocab_size=30, n_positions=16, n_embd=16, n_layer=4, n_head=2)).eval()


BATCHES = [{"input_ids": torch.randint(0, 30, (4, 12), generator=torch.Generator().manual_seed(1))}]


def test_preference_pairs_are_the_ordered_pairs_with_different_outcomes():
    X = np.array([[1.0], [3.0], [2.0]])
    diffs, labels = preference_pairs(X, np.array([0.1, 0.5, 0.5]))
    # (0,1) (0,2) (1,0) (2,0); layers 1 and 2 tie and give no pair
    assert diffs[:, 0].tolist() == [-2.0, -1.0, 2.0, 1.0]
    assert labels.tolist() == [0, 0, 1, 1]


def test_context_features_worked_by_hand():
    frame = context_features(3, 0.25, 64)
    assert frame["depth"].tolist() == [0.0, 0.5, 1.0]
    assert frame["layers_left"].tolist() == [0.25] * 3 and frame["width"].tolist() == [0.5] * 3
    assert frame["depth*removed_fraction"].tolist() == [0.0, 0.125, 0.25]


def test_the_pairwise_model_orders_layers_as_the_planted_preference_says():
    # the outcome is exactly block_influence: the model must rank every state like block_influence
    bank = rank_bank(lambda f: f["block_influence"], datasets=tuple("abcdefgh"), layers=12)
    model = PairwiseFusion().fit(bank)
    weights = model.weights()
    assert max(weights, key=lambda k: abs(weights[k])) == "block_influence" and weights["block_influence"] > 0
    fresh = rank_bank(lambda f: f["block_influence"], seed=1)
    for rows in fresh.states():
        predicted = model.predict(rows)
        assert np.argsort(predicted).tolist() == np.argsort(rows["block_influence"].to_numpy()).tolist()


def test_the_pairwise_model_learns_a_depth_preference():
    # the later a layer, the lower its outcome (it should go first): the depth weight is positive... inverted
    bank = rank_bank(lambda f: -f["depth"])
    weights = PairwiseFusion().fit(bank).weights()
    assert weights["depth"] < 0


def test_predicting_before_fitting_and_banks_without_preferences_are_refused():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        PairwiseFusion().predict(pd.DataFrame({"depth": [0.0]}))
    with pytest.raises(DataError, match="no two layers with different outcomes"):
        PairwiseFusion().fit(rank_bank(lambda f: 0.0 * f["depth"]))


def test_a_bank_round_trips_and_leaves_a_data_set_out(tmp_path):
    bank = rank_bank(lambda f: f["taylor"])
    loaded = RankBank.load(bank.save(tmp_path / "rank.csv"))
    assert loaded.meta == {"made_by": "test"} and len(loaded.frame) == len(bank.frame)
    assert loaded.frame["state"].tolist()[:6] == [""] * 6  # the intact state survives the CSV
    assert loaded.without("b").datasets == ["a", "c"]


def test_a_file_that_is_not_a_rank_bank_is_refused(tmp_path):
    path = tmp_path / "bank.csv"
    path.write_text("dataset,layer\nx,0\n")
    with pytest.raises(DataError, match="is not a rank bank"):
        RankBank.load(path)


def test_fusion_rank_is_registered_and_follows_the_signal_its_bank_rewards(tmp_path):
    path = rank_bank(lambda f: f["block_influence"]).save(tmp_path / "rank.csv")
    strategy = get_strategy("fusion-rank", bank=str(path), exclude_datasets=["c"])
    assert isinstance(strategy, RankFusionStrategy)
    model = tiny_gpt2()
    fused = make_plan(model, BATCHES, strategy, remove=2, mode="iterative")
    signal = make_plan(model, BATCHES, "block_influence", remove=2, mode="iterative")
    assert fused.removal_order == signal.removal_order


def test_a_model_whose_rows_are_in_the_rank_bank_is_refused_unless_excluded(tmp_path):
    model = tiny_gpt2()
    bank = rank_bank(lambda f: f["block_influence"])
    bank.frame.loc[bank.frame["dataset"] == "b", "model_sha256"] = weights_sha256(model.state_dict())
    path = bank.save(tmp_path / "rank.csv")
    with pytest.raises(DataError, match="own rows are in the rank bank \\(data set b\\)"):
        make_plan(model, BATCHES, RankFusionStrategy(bank=path), remove=1)
    plan = make_plan(model, BATCHES, RankFusionStrategy(bank=path, exclude_datasets=["b"]), remove=1)
    assert plan.strategy == "fusion-rank"
    with pytest.raises(DataError, match="no rank bank rows are left"):
        RankFusionStrategy(bank=path, exclude_datasets=["a", "b", "c"]).prepare()


def test_the_shipped_rank_bank_fits_with_every_signal_and_leaves_a_data_set_out():
    bank, model = RankFusionStrategy(exclude_datasets=["iris"]).fitted()
    assert "iris" not in bank.datasets and len(bank.datasets) >= 9
    assert set(SIGNALS.names()) <= set(model.weights())
