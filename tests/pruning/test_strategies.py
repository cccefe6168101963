"""make_plan: one-shot and iterative plans with hand-checkable expectations, for every strategy."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pytest
import torch
from torch import nn

from fuseprune.errors import ConfigError, DataError, UnknownNameError
from fuseprune.models import get_adapter
from fuseprune.pruning import (
    MODES,
    PLAN_MODES,
    STRATEGIES,
    PrunePlan,
    RankContext,
    Ranking,
    Strategy,
    TableStrategy,
    apply_plan,
    get_strategy,
    list_strategies,
    make_plan,
    register_strategy,
)
from fuseprune.scoring import LayerScores, ScoreTable, list_references, list_signals, random_scores

from .conftest import build_model, token_batch

WEIGHTS = [0.9, 0.1, 0.5, 0.3, 0.7, 0.2]
TOY_IDS = [{"input_ids": torch.tensor([[0, 1, 2, 3, 4], [4, 3, 2, 1, 0]])}]


class FixedKeep(Strategy):
    """Ranks by a fixed keep vector (a ScoreTable-like column), whatever the model."""

    name = "fixed"

    def __init__(self, keep: list[float]) -> None:
        self.keep = keep

    def rank(self, model: nn.Module, batches: Iterable[Mapping[str, Any]], context: RankContext) -> Ranking:
        return Ranking(keep=tuple(self.keep), signal_scores={"fixed": tuple(self.keep)})


@pytest.fixture
def toy6(make_toy):
    """Six residual blocks ``h + w h`` (w = WEIGHTS, 4 wide, 16 parameters each) and a 20-parameter tied embedding."""
    return make_toy([torch.eye(4) * w for w in WEIGHTS])


def plan(model, strategy, **options) -> PrunePlan:
    return make_plan(model, TOY_IDS, strategy, layers="blocks", **options)


@pytest.mark.parametrize(("remove", "expected"), [(1, (1,)), (2, (1, 5)), (3, (1, 5, 3)), ("50%", (1, 5, 3)),
                                                  (0.5, (1, 5, 3)), ("3", (1, 5, 3))])
def test_one_shot_removes_the_lowest_keep_scores(toy6, remove, expected):
    made = plan(toy6, FixedKeep(WEIGHTS), remove=remove)
    assert made.removal_order == expected and made.mode == "one-shot" and made.strategy == "fixed"
    assert made.signal_scores == {"fixed": tuple(WEIGHTS)}
    assert made.parameters["remove"] == remove


def test_a_plan_from_a_precomputed_score_table(toy6):
    """Raw values (goal minimize) -> keep = (max - raw) / (max - min): the highest raw values go first."""
    raw = (5.0, 0.0, 4.0, 1.0, 3.0, 2.0)
    table = ScoreTable((LayerScores("mi_redundancy", "information", "minimize", raw),), seed=4)
    made = plan(toy6, TableStrategy(table, "mi_redundancy"), remove=2)
    assert made.removal_order == (0, 2) and made.strategy == "mi_redundancy"
    assert made.signal_scores["mi_redundancy"] == (0.0, 1.0, 0.2, 0.8, 0.4, 0.6)
    assert made.parameters["strategy"] == {"scores": "precomputed", "seed": 4}
    with pytest.raises(ConfigError, match="cover 6 layers but the model has 5; .*\\(use mode 'one-shot'\\)"):
        plan(toy6, TableStrategy(table, "mi_redundancy"), remove=2, mode="iterative")


def test_protection_keeps_first_and_last(toy6):
    keep = [0.0, 0.6, 0.5, 0.9, 0.8, 0.1]
    assert plan(toy6, FixedKeep(keep), remove=2).removal_order == (0, 5)
    assert plan(toy6, FixedKeep(keep), remove=2, protect=["first"]).removal_order == (5, 2)
    protected = plan(toy6, FixedKeep(keep), remove=2, protect=("first", "last"))
    assert protected.removal_order == (2, 1) and protected.parameters["protected_layers"] == [0, 5]
    assert plan(toy6, FixedKeep(keep), remove=2, protect="last").removal_order == (0, 2)


@pytest.mark.parametrize(("budget", "expected"), [(116, ()), (100, (1,)), (99, (1, 5)), (83, (1, 5, 3))])
def test_parameter_budget(toy6, budget, expected):
    made = plan(toy6, FixedKeep(WEIGHTS), max_params=budget)
    assert made.model.num_parameters == 116 and made.removal_order == expected
    pruned = apply_plan(toy6, made)
    assert sum(p.numel() for p in pruned.parameters()) <= budget


def test_parameter_budget_that_needs_every_layer_is_refused(toy6):
    with pytest.raises(ConfigError, match="`max_params` 35 cannot be met without removing every layer"):
        plan(toy6, FixedKeep(WEIGHTS), max_params=35)


def test_weight_scores_give_the_same_order_one_shot_and_iterative(toy6):
    """weight_norm of block i is ||w_i I||_F = 2 w_i: it does not depend on the other layers."""
    one_shot = plan(toy6, "weight_norm", remove=3)
    iterative = plan(toy6, "weight_norm", remove=3, mode="iterative")
    assert one_shot.removal_order == iterative.removal_order == (1, 5, 3)  # original indices, not positions
    assert iterative.mode == "iterative"
    assert iterative.signal_scores["weight_norm"] == pytest.approx([1.0, 0.0, 0.5, 0.25, 0.75, 0.125])


def test_iterative_rescoring_changes_the_order(make_toy):
    """act_norm = mean ||w_i h_in||, and h_in grows by (1 + w_j) per earlier block j.

    Blocks w = (1.0, 0.3, 0.45), |h_0| = 1: the updates are 1.0, 0.3 * 2 = 0.6 and
    0.45 * 2 * 1.3 = 1.17, so one-shot removes block 1 then block 0. Iteratively,
    without block 1 the updates are 1.0 and 0.45 * 2 = 0.9: block 2 goes second.
    """
    toy = make_toy([torch.eye(4) * w for w in (1.0, 0.3, 0.45)])
    before = [b.linear.weight.clone() for b in toy.blocks]
    assert plan(toy, "act_norm", remove=2).removal_order == (1, 0)
    iterative = plan(toy, "act_norm", remove=2, mode="iterative")
    assert iterative.removal_order == (1, 2)
    assert iterative.signal_scores["act_norm"] == pytest.approx([0.4 / 0.57, 0.0, 1.0])  # the intact model
    assert len(toy.blocks) == 3 and all(
        torch.equal(b.linear.weight, w) for b, w in zip(toy.blocks, before, strict=True)
    )


def test_random_is_reproducible(toy6):
    first = plan(toy6, "random", remove=3, seed=7)
    assert plan(toy6, "random", remove=3, seed=7) == first
    assert plan(toy6, "random", remove=3, seed=8).removal_order != first.removal_order
    assert first.signal_scores["random"] == random_scores(6, 7).keep
    iterative = plan(toy6, "random", remove=3, seed=7, mode="iterative")
    assert plan(toy6, "random", remove=3, seed=7, mode="iterative") == iterative


def next_token_loss(logits, batch):
    """Mean cross-entropy of each token given the ones before it (padding included: a toy loss)."""
    flat = logits[:, :-1].reshape(-1, logits.shape[-1])
    return nn.functional.cross_entropy(flat, batch["input_ids"][:, 1:].reshape(-1))


@pytest.mark.parametrize("strategy", list_strategies())
def test_every_strategy_makes_a_valid_plan(strategy, tmp_path):
    model = build_model("gpt2")
    loss_fn = next_token_loss if strategy == "exhaustive" else None  # exhaustive refuses to run without one
    made = make_plan(model, [token_batch()], strategy, remove=1, protect=("first",), loss_fn=loss_fn)
    assert len(made.removal_order) == 1 and 0 not in made.removal_order
    if strategy.startswith("fusion-"):  # fused from every signal of the shipped bank
        assert set(made.signal_scores) == set(list_signals()) and len(made.fused_scores) == 4
    else:
        assert set(made.signal_scores) == {strategy} and made.fused_scores is None
    assert made.strategy == strategy
    assert PrunePlan.load(made.save(tmp_path / "plan.json")) == made
    assert get_adapter(apply_plan(model, made)).num_layers == 3


@pytest.mark.parametrize("strategy", ["block_influence", "ablation"])
def test_iterative_on_a_transformer(strategy):
    model = build_model("llama")
    made = make_plan(model, [token_batch()], strategy, remove="50%", mode="iterative")
    assert len(made.removal_order) == 2 and len(set(made.removal_order)) == 2
    assert len(model.model.layers) == 4  # the input model is never pruned


def test_strategy_registry():
    if "test-constant" not in STRATEGIES:

        @register_strategy("test-constant")
        class Constant(Strategy):
            def rank(self, model, batches, context):
                return Ranking(keep=(0.5,) * get_adapter(model, context.layers).num_layers)

    assert "test-constant" in list_strategies() and get_strategy("test-constant").name == "test-constant"
    assert set(list_signals()) | set(list_references()) < set(list_strategies())
    assert make_plan(build_model("gpt2"), [token_batch()], "test-constant", remove=2).removal_order == (3, 2)
    with pytest.raises(ConfigError, match="already a signal"):
        register_strategy("act_norm")(FixedKeep)
    with pytest.raises(ConfigError, match="only Strategy subclasses"):
        register_strategy("not-a-strategy")(dict)
    with pytest.raises(ConfigError, match="already registered"):
        register_strategy("test-constant")(FixedKeep)
    assert sorted(MODES.names()) == sorted(PLAN_MODES)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        (dict(strategy="nope", remove=1), UnknownNameError, "unknown strategy 'nope'; known: ablation, act_norm"),
        (dict(strategy="random", remove=1, mode="greedy"), UnknownNameError,
         "unknown plan mode 'greedy'; known: iterative, one-shot"),
        (dict(strategy="random", remove=6), ConfigError, "between 1 and 5 for this 6-layer model; got 6"),
        (dict(strategy="random", remove="150%"), ConfigError, "less than 100%"),
        (dict(strategy="random"), ConfigError, "exactly one of `remove`"),
        (dict(strategy="random", remove=1, protect=("middle",)), ConfigError, "`protect` entries"),
        (dict(strategy="random", remove=1, seed=-1), ConfigError, "`seed` must be an integer between 0 and 4294967295"),
        (dict(strategy=FixedKeep([0.5] * 5), remove=1), DataError, "ranked 5 layers; the model has 6"),
    ],
)
def test_bad_options_give_one_line_errors(toy6, options, error, message):
    with pytest.raises(error, match=message) as info:
        plan(toy6, **options)
    assert "\n" not in str(info.value)


def test_iterative_needs_a_list_of_batches(toy6):
    with pytest.raises(ConfigError, match="one-shot iterator .* pass a list"):
        make_plan(toy6, iter(TOY_IDS), "act_norm", remove=1, mode="iterative", layers="blocks")


def test_plan_parameters_are_recorded_as_json(toy6):
    made = plan(toy6, "weight_norm", max_params=90, protect=("last",), seed=3)
    assert json.loads(json.dumps(made.parameters)) == {
        "remove": None, "max_params": 90, "protect": ["last"], "seed": 3, "protected_layers": [5],
    }
