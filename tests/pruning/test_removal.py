"""The one removal loop: hand-worked paths, the tie rule, and its three callers agreeing on a real model."""

from __future__ import annotations

import itertools

import pytest
import torch

from fuseprune.compare import cell as cell_module
from fuseprune.compare.grid import Cell, GridConfig
from fuseprune.data import DEFAULT_HOLDOUT, load_table
from fuseprune.errors import DataError
from fuseprune.presets import ModelPreset
from fuseprune.pruning import Ranking, make_plan, removal_path
from fuseprune.tabular import (
    TableCodec,
    TabularGPT,
    build_model,
    split_of,
    tabular_loss_fn,
)
from fuseprune.tabular import bank as build_module
from fuseprune.tabular.bank import BankConfig, oracle_path_rows
from fuseprune.tabular.scoring import calibration_batches
from fuseprune.tabular.train import data_record

WEIGHTS = [0.9, 0.1, 0.5, 0.3, 0.7, 0.2]


def by_weight(model, removed, kept):
    """Keep score of a toy block = its hand-set weight, so every layer keeps its score as the model shrinks."""
    return Ranking(keep=tuple(float(block.linear.weight[0, 0].detach()) for block in model.blocks))


def path(model, **options):
    return [(step.removed, step.next) for step in removal_path(model, by_weight, layers="blocks", **options)]


def test_the_lowest_keep_score_goes_first_and_positions_map_back_to_original_layers(make_toy):
    model = make_toy([torch.eye(4) * w for w in WEIGHTS])
    # 0.1 (layer 1), 0.2 (5), 0.3 (3), 0.5 (2), 0.7 (4); layer 0 (0.9) is left
    assert path(model) == [((), 1), ((1,), 5), ((1, 5), 3), ((1, 5, 3), 2), ((1, 5, 3, 2), 4), ((1, 5, 3, 2, 4), None)]
    assert len(model.blocks) == 6 and float(model.blocks[1].linear.weight[0, 0].detach()) == pytest.approx(
        0.1
    )  # untouched


def test_ties_go_to_the_later_layer(make_toy):
    model = make_toy([torch.eye(4) * w for w in [0.5, 0.5, 0.2, 0.5]])
    # 0.2 (layer 2) first; then three layers tie at 0.5: the later goes first (3, then 1)
    assert [nxt for _, nxt in path(model)] == [2, 3, 1, None]


def test_protection_a_target_and_a_resumed_path(make_toy):
    model = make_toy([torch.eye(4) * w for w in [0.5, 0.5, 0.2, 0.5]])
    assert [nxt for _, nxt in path(model, protected={3})] == [2, 1, 0, None]  # 3 stays, even as the last tie
    assert path(model, done=lambda removed: len(removed) == 2) == [((), 2), ((2,), 3), ((2, 3), None)]
    resumed = make_toy([torch.eye(4) * w for w in WEIGHTS])
    assert path(resumed, removed=(1, 5)) == [((1, 5), 3), ((1, 5, 3), 2), ((1, 5, 3, 2), 4), ((1, 5, 3, 2, 4), None)]


def test_a_ranking_of_the_wrong_length_is_refused(make_toy):
    model = make_toy([torch.eye(4) * w for w in WEIGHTS])
    with pytest.raises(DataError, match="a ranking of 2 layers was given for a model with 6"):
        next(removal_path(model, lambda *_: Ranking(keep=(0.0, 1.0)), layers="blocks"))


# --- the three callers: iterative plans, the fusion bank builder and a comparison cell -------------------------

FOUR = ModelPreset("four", 4, 2, 16, 0.0, "four tiny layers")


def teacher(identity: bool = False) -> TabularGPT:
    """An untrained 4-layer iris generator; with ``identity`` every layer adds exactly zero (all scores tie)."""
    table = load_table("iris")
    codec = TableCodec.fit(table.frame, table.kinds)
    model = build_model(codec, FOUR, seed=0).eval()
    if identity:
        with torch.no_grad():
            for block in model.transformer.h:
                for projection in (block.attn.c_proj, block.mlp.c_proj):
                    projection.weight.zero_()
                    projection.bias.zero_()
    return TabularGPT(model, codec, {"data": data_record(table, DEFAULT_HOLDOUT, 0)})


def planner_path(bundle: TabularGPT, batches) -> list[int]:
    plan = make_plan(bundle.model, batches, "ablation", remove=3, mode="iterative",
                     loss_fn=tabular_loss_fn(bundle.codec))
    return list(plan.removal_order)


def builder_path(bundle: TabularGPT, monkeypatch) -> list[int]:
    """The layers the bank builder removed, read from its rows (the layer missing from the next state)."""
    monkeypatch.setattr(build_module, "load_or_train", lambda *args, **kwargs: (bundle, False))
    monkeypatch.setattr(build_module, "score_tabular", lambda *args, **kwargs: [])  # the signals do not steer
    rows = oracle_path_rows("iris", 0, BankConfig(datasets=("iris",), seeds=(0,), calibration_rows=16))
    states = [set(rows.loc[rows["step"] == step, "layer"]) for step in sorted(set(rows["step"]))]
    return [(before - after).pop() for before, after in itertools.pairwise(states)]


def cell_path(bundle: TabularGPT, monkeypatch) -> list[int]:
    monkeypatch.setattr(cell_module._Measure, "state", lambda self, model, removed, kept: {"quality": 0.0})
    config = GridConfig(datasets=("iris",), strategies=("ablation",), calibration_rows=16)
    records = cell_module.run_cell(config, Cell("iris", 0, "ablation"), bundle)
    return [r["next"] for r in records if r["next"] is not None]


@pytest.mark.parametrize("identity", [False, True], ids=["random-weights", "all-scores-tied"])
def test_the_planner_the_bank_builder_and_a_cell_remove_the_same_layers(identity, monkeypatch):
    bundle = teacher(identity)
    train, holdout = split_of(bundle, load_table("iris"))
    # each caller ranks by the ablation oracle; the planner is given each caller's own batches
    oracle_batches = calibration_batches(bundle.codec, holdout, n_rows=len(holdout), batch_size=256)
    cell_batches = calibration_batches(bundle.codec, train, 16, seed=0)
    builder, planned = builder_path(bundle, monkeypatch), planner_path(bundle, oracle_batches)
    assert len(builder) == 2 and builder == planned[:2]  # its rows show the states down to two layers
    assert cell_path(bundle, monkeypatch) == planner_path(bundle, cell_batches)
    if identity:  # every layer adds exactly zero: every ranking is a tie, so the later layer goes first each time
        assert planned == [3, 2, 1]
