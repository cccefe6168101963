"""Strategies with options: built by name with keyword options, checked, recorded in plans; plugins by entry point."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, entry_points

import pytest
import torch

from fuseprune.errors import ConfigError, UnknownNameError
from fuseprune.fusion import FusionOptions
from fuseprune.fusion.strategy import ForestFusionStrategy, LinearFusionStrategy
from fuseprune.pruning import (
    STRATEGIES,
    PrunePlan,
    Ranking,
    Strategy,
    StrategyOptions,
    applicable_options,
    get_strategy,
    make_plan,
    register_strategy,
    registered_strategies,
    strategy_options,
)
from fuseprune.pruning import registry as registry_module
from fuseprune.registry import Registry

TOY_IDS = [{"input_ids": torch.tensor([[0, 1, 2, 3, 4], [4, 3, 2, 1, 0]])}]


@dataclass(frozen=True)
class FirstOptions(StrategyOptions):
    """Keep the first ``keep_first`` layers; rank the rest by position."""

    keep_first: int = field(default=1, metadata={"help": "layers at the front that rank highest"})

    def __post_init__(self) -> None:
        if isinstance(self.keep_first, bool) or not isinstance(self.keep_first, int) or self.keep_first < 0:
            raise ConfigError(f"`keep_first` must be a whole number of layers, 0 or more; got {self.keep_first!r}.")


class FirstLayers(Strategy):
    """Front layers keep; then the later a layer, the higher it ranks."""

    options_class = FirstOptions
    options: FirstOptions

    def rank(self, model, batches, context):
        count = len(model.blocks)
        return Ranking(keep=tuple(10.0 if i < self.options.keep_first else i / count for i in range(count)))


@pytest.fixture(scope="module")
def first_layers():
    if "test-first" not in STRATEGIES:
        register_strategy("test-first")(FirstLayers)
    return "test-first"


def test_options_are_given_by_keyword_and_checked(first_layers):
    assert get_strategy(first_layers).options == FirstOptions(keep_first=1)
    assert get_strategy(first_layers, keep_first=3).options.keep_first == 3
    assert strategy_options(first_layers) is FirstOptions and strategy_options("random") is StrategyOptions
    with pytest.raises(ConfigError, match=r"^strategy 'test-first' has no option colour; its options: keep_first\.$"):
        get_strategy(first_layers, colour="red")
    with pytest.raises(ConfigError, match=r"^strategy 'random' has no option keep_first; it takes none\.$"):
        get_strategy("random", keep_first=2)
    with pytest.raises(ConfigError, match=r"^`keep_first` must be a whole number of layers, 0 or more; got -1\.$"):
        get_strategy(first_layers, keep_first=-1)
    with pytest.raises(UnknownNameError, match="unknown strategy 'nope'; known: ablation"):
        get_strategy("nope", keep_first=2)
    with pytest.raises(ConfigError, match="go with a strategy name, not with the already built strategy"):
        get_strategy(get_strategy(first_layers), keep_first=2)


def test_a_plan_records_the_options_and_they_rebuild_the_strategy(first_layers, make_toy, tmp_path):
    model = make_toy([torch.eye(4) * w for w in (0.9, 0.1, 0.5, 0.3)])
    # keep_first=2: layers 0 and 1 keep; layers 2 (2/4) and 3 (3/4): 2 goes first
    plan = make_plan(model, TOY_IDS, get_strategy(first_layers, keep_first=2), remove=1, layers="blocks")
    assert plan.removal_order == (2,) and plan.parameters["strategy"] == {"keep_first": 2}
    again = PrunePlan.load(plan.save(tmp_path / "plan.json"))
    assert get_strategy(again.strategy, **again.parameters["strategy"]).options == FirstOptions(keep_first=2)
    # with no options at all, nothing is recorded for the strategy
    assert "strategy" not in make_plan(model, TOY_IDS, "random", remove=1, layers="blocks").parameters


def test_applicable_options_keep_only_what_the_strategy_takes(first_layers):
    offered = {"keep_first": 2, "bank": "b.csv", "exclude_datasets": ("iris",), "allow_overlap": None}
    assert applicable_options(first_layers, offered) == {"keep_first": 2}
    assert applicable_options("fusion-rf", offered) == {"bank": "b.csv", "exclude_datasets": ("iris",)}
    assert applicable_options("block_influence", offered) == {}


def test_fusion_strategies_take_bank_options():
    strategy = get_strategy("fusion-rf", bank="b.csv", exclude_datasets="iris", allow_overlap=True)
    assert isinstance(strategy, ForestFusionStrategy) and strategy.name == "fusion-rf"
    assert strategy.options == FusionOptions(bank="b.csv", exclude_datasets=("iris",), allow_overlap=True)
    assert strategy.parameters() == {"bank": "b.csv", "exclude_datasets": ("iris",), "allow_overlap": True}
    assert LinearFusionStrategy(bank=None).options.bank == ""  # None means the shipped bank, as ""
    for options, message in [({"bank": 3}, "`bank` must be the path of a bank CSV file"),
                             ({"exclude_datasets": [1]}, "`exclude_datasets` must be a list of data set names"),
                             ({"allow_overlap": "yes"}, "`allow_overlap` must be true or false; got 'yes'.")]:
        with pytest.raises(ConfigError, match=message):
            get_strategy("fusion-lr", **options)


def test_the_fusion_strategies_come_from_the_entry_point_group():
    declared = {e.name: e.value for e in entry_points(group=registry_module.ENTRY_POINT_GROUP)}
    assert declared["fusion-lr"] == "fuseprune.fusion.strategy:LinearFusionStrategy"
    assert declared["fusion-rf"] == "fuseprune.fusion.strategy:ForestFusionStrategy"
    assert {"fusion-lr", "fusion-rf"} <= set(registered_strategies())
    assert STRATEGIES.get("fusion-rf") is ForestFusionStrategy


def test_the_engine_does_not_import_the_fusion_package_until_a_strategy_is_looked_up():
    code = ("import sys, fuseprune.pruning as p; before = 'fuseprune.fusion' in sys.modules; "
            "p.get_strategy('fusion-lr'); print(before, 'fuseprune.fusion' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]


class FakeEntryPoint:
    """An installed package's entry point, as importlib.metadata gives it."""

    group = registry_module.ENTRY_POINT_GROUP

    def __init__(self, name, value, target):
        self.name, self.value, self.target = name, value, target

    def load(self):
        if self.target is None:
            raise ModuleNotFoundError(f"No module named {self.value.split(':')[0]!r}")
        return self.target


def test_a_plugin_that_cannot_be_loaded_is_left_out_with_a_warning(monkeypatch, caplog):
    class Plugged(FirstLayers):
        pass

    plugins = [FakeEntryPoint("test-broken", "no_such_module_here:Strategy", None),
               FakeEntryPoint("test-plugin", "somewhere:Plugged", Plugged)]
    monkeypatch.setattr(registry_module, "entry_points", lambda group: [e for e in plugins if e.group == group])
    monkeypatch.setattr(registry_module, "STRATEGIES", Registry("strategy"))
    monkeypatch.setitem(registry_module._plugins, "loaded", False)
    assert registered_strategies() == ["test-plugin"] and Plugged.name == "test-plugin"
    assert "strategy plugin test-broken = no_such_module_here:Strategy is left out" in caplog.text
    registered_strategies()  # read once: a second lookup loads nothing again
    assert caplog.text.count("is left out") == 1
    assert "declares no" not in caplog.text  # fuseprune's own metadata declares the group


def test_a_stale_install_without_the_entry_points_is_reported(monkeypatch, caplog):
    def not_installed(name):
        raise PackageNotFoundError(name)

    monkeypatch.setattr(registry_module, "entry_points", lambda group: [])
    monkeypatch.setattr(registry_module, "distribution", not_installed)
    monkeypatch.setattr(registry_module, "STRATEGIES", Registry("strategy"))
    monkeypatch.setitem(registry_module._plugins, "loaded", False)
    assert registered_strategies() == []
    assert "declares no fuseprune.strategies entry points" in caplog.text and "pip install -e ." in caplog.text


@dataclass(frozen=True)
class HelplessOptions(StrategyOptions):
    """A field without help."""

    depth: int = 2


@pytest.mark.parametrize(
    ("options_class", "name", "own_name", "message"),
    [
        (dict, "test-dict", "", "`options_class` of strategy 'test-dict' must be a frozen dataclass subclassing"),
        (HelplessOptions, "test-helpless", "", "option `depth` of strategy 'test-helpless' needs metadata"),
        (StrategyOptions, "test-renamed", "other", "Candidate.name is 'other' but it is registered as 'test-renamed'"),
        (StrategyOptions, "act_norm", "", "'act_norm' is already a signal or reference strategy"),
    ],
)
def test_a_refused_registration_changes_nothing(options_class, name, own_name, message):
    class Candidate(FirstLayers):
        pass

    Candidate.options_class, Candidate.name = options_class, own_name
    before = dict(vars(Candidate))
    with pytest.raises(ConfigError, match=message):
        register_strategy(name)(Candidate)
    assert dict(vars(Candidate)) == before and name not in STRATEGIES


@pytest.mark.parametrize("name", registered_strategies())
def test_every_registered_strategy_builds_with_its_default_options(name):
    strategy = get_strategy(name)
    assert strategy.name == name and strategy.options == strategy_options(name)()
    assert strategy.options_class.from_dict(strategy.options.to_dict()) == strategy.options
