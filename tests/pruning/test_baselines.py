"""The baseline strategies tail, head and exhaustive, on toy stacks worked out by hand."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from fuseprune.compare.grid import GridConfig
from fuseprune.errors import ConfigError
from fuseprune.pruning import get_strategy, list_strategies, make_plan, registered_strategies

TOY_IDS = [{"input_ids": torch.tensor([[0, 1, 2, 3, 4], [4, 3, 2, 1, 0]])}]

#: Loss increase of removing each layer alone, and the pair whose removal together costs less (redundant layers).
COST = (5.0, 1.0, 2.0, 1.5, 3.0)
REDUNDANT, DISCOUNT, INTACT = (2, 3), 2.0, 10.0


class Marker(nn.Module):
    """``h -> h + e_i``: layer ``i`` writes a 1 into slot ``i``, so the output says which layers ran."""

    def __init__(self, index: int, width: int) -> None:
        super().__init__()
        self.unit = nn.Parameter(nn.functional.one_hot(torch.tensor(index), width).float())

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden + self.unit


class MarkerStack(nn.Module):
    """Zeros -> Marker layers; the "logits" are the slots (name the layers with ``layers="blocks"``)."""

    def __init__(self, count: int = 5) -> None:
        super().__init__()
        self.count = count
        self.blocks = nn.ModuleList(Marker(i, count) for i in range(count))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        hidden = torch.zeros(*input_ids.shape, self.count)
        for block in self.blocks:
            hidden = block(hidden)
        return hidden


def planted_loss(logits, batch):
    """INTACT + COST of every removed layer, less DISCOUNT when both REDUNDANT layers are gone."""
    removed = {i for i in range(logits.shape[-1]) if float(logits[0, 0, i]) == 0.0}
    loss = INTACT + sum(COST[i] for i in removed) - (DISCOUNT if set(REDUNDANT) <= removed else 0.0)
    return torch.tensor(loss)


def plan(model, strategy, **options):
    return make_plan(model, TOY_IDS, strategy, layers="blocks", **options)


@pytest.mark.parametrize("mode", ["one-shot", "iterative"])
def test_tail_removes_the_last_layers_and_head_the_first(mode):
    """5 layers: tail's keep scores fall 1, 0.75, ..., 0 toward the last layer; head's rise; no data needed."""
    made = make_plan(MarkerStack(), [], "tail", remove=2, mode=mode, layers="blocks")
    assert made.removal_order == (4, 3) and made.signal_scores == {"tail": (1.0, 0.75, 0.5, 0.25, 0.0)}
    made = make_plan(MarkerStack(), [], "head", remove=2, mode=mode, layers="blocks")
    assert made.removal_order == (0, 1) and made.signal_scores == {"head": (0.0, 0.25, 0.5, 0.75, 1.0)}


def test_with_an_end_protected_tail_and_head_take_the_next_layers():
    assert plan(MarkerStack(), "tail", remove=2, protect="last").removal_order == (3, 2)
    assert plan(MarkerStack(), "head", remove=2, protect="first").removal_order == (1, 2)
    assert plan(MarkerStack(), "tail", remove=1, protect=("last", 3)).removal_order == (2,)


def test_exhaustive_finds_the_planted_pair_that_greedy_ablation_misses():
    """Pair losses minus INTACT: {1,3} 2.5 (the two cheapest alone) but {2,3} 1.5 (redundant), the best of ten.

    Ablation removes the cheapest single layer (1, cost 1) and then the cheapest next (3, cost 1.5),
    one-shot or iteratively. Exhaustive removes {2, 3}; the order follows the mean loss of the four
    pairs containing each layer: 3 (3.75) before 2 (4.125), then 1 (3.875), 4 (5.375), 0 (6.875).
    """
    greedy = plan(MarkerStack(), "ablation", remove=2, loss_fn=planted_loss)
    assert greedy.removal_order == (1, 3)
    assert plan(MarkerStack(), "ablation", remove=2, mode="iterative", loss_fn=planted_loss).removal_order == (1, 3)
    made = plan(MarkerStack(), "exhaustive", remove=2, loss_fn=planted_loss)
    assert made.removal_order == (3, 2) and made.strategy == "exhaustive"
    assert made.signal_scores == {"exhaustive": (1.0, 0.5, 0.25, 0.0, 0.75)}
    assert made.parameters["strategy"] == {"max_layers": 12}
    # iteratively: 3 goes, then of the four single layers left, 2 (loss 1.5 with 3 gone) is the best
    assert plan(MarkerStack(), "exhaustive", remove=2, mode="iterative", loss_fn=planted_loss).removal_order == (3, 2)
    # a single layer: the cheapest alone (1); three layers: {1, 2, 3} (1 + 2 + 1.5 - 2 = 2.5)
    assert plan(MarkerStack(), "exhaustive", remove=1, loss_fn=planted_loss).removal_order == (1,)
    assert set(plan(MarkerStack(), "exhaustive", remove=3, loss_fn=planted_loss).removal_order) == {1, 2, 3}


def test_exhaustive_searches_only_the_layers_that_may_go():
    """Layer 2 protected: of the six pairs of {0, 1, 3, 4}, {1, 3} is best (2.5); means 1: 12.5/3, 3: 13.5/3."""
    made = plan(MarkerStack(), "exhaustive", remove=2, protect=(2,), loss_fn=planted_loss)
    assert made.removal_order == (1, 3)
    assert max(made.signal_scores["exhaustive"]) == made.signal_scores["exhaustive"][2]


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def start(self, description, total):
        self.events.append(("start", description, total))

    def advance(self, n=1, **info):
        self.events.append(("advance", n))

    def stop(self):
        self.events.append(("stop",))


def test_exhaustive_reports_one_step_per_subset_and_batch():
    progress = Recorder()
    make_plan(MarkerStack(), TOY_IDS * 2, "exhaustive", remove=2, layers="blocks", loss_fn=planted_loss,
              progress=progress)
    assert progress.events[0] == ("start", "Evaluating 10 layer subsets", 20)
    assert progress.events[1:] == [("advance", 1)] * 20 + [("stop",)]


@pytest.mark.parametrize(("options", "plan_options", "message"), [
    ({"max_layers": 4}, {"remove": 2, "loss_fn": planted_loss},
     "strategy 'exhaustive' searches at most `max_layers` 4 layers; this model has 5; raise the option `max_layers`"),
    ({}, {"remove": 2}, "strategy 'exhaustive' needs a `loss_fn` to measure each subset of layers; pass one."),
    ({}, {"max_params": 15, "loss_fn": planted_loss}, "strategy 'exhaustive' needs the number of layers to remove"),
])
def test_exhaustive_refusals_are_one_line(options, plan_options, message):
    with pytest.raises(ConfigError, match=message) as error:
        plan(MarkerStack(), get_strategy("exhaustive", **options), **plan_options)
    assert "\n" not in str(error.value)


def test_the_default_refuses_a_13_layer_stack():
    with pytest.raises(ConfigError, match="at most `max_layers` 12 layers; this model has 13"):
        plan(MarkerStack(13), "exhaustive", remove=6, loss_fn=planted_loss)


@pytest.mark.parametrize("bad", [0, -1, True, "3", 2.5])
def test_a_bad_max_layers_is_refused(bad):
    with pytest.raises(ConfigError, match="`max_layers` of strategy 'exhaustive' must be a positive integer"):
        get_strategy("exhaustive", max_layers=bad)


def test_the_baselines_are_registered_and_exhaustive_joins_comparisons_only_by_name():
    assert {"tail", "head", "exhaustive"} <= set(registered_strategies())
    grid = GridConfig(datasets=("iris",), strategies=("all",), preset="tiny")
    assert {"tail", "head"} <= set(grid.strategies) and "exhaustive" not in grid.strategies
    assert sorted({*grid.strategies, "exhaustive"}) == list_strategies()
    named = GridConfig(datasets=("iris",), strategies=("random", "exhaustive"), preset="tiny")
    assert named.strategies == ("random", "exhaustive")  # named, it aims at half the layers in a cell
