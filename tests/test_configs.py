"""Every config class of the package survives JSON: ``from_dict(json.loads(json.dumps(c.to_dict()))) == c``.

The classes are found by importing every module of the package and walking the
subclasses of ConfigMixin, so a new config is covered without touching this file.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from dataclasses import MISSING, fields

import pytest

import fuseprune
from fuseprune.config import ConfigMixin
from fuseprune.errors import ConfigError

#: Settings for the configs whose defaults cannot be built or leave tuple fields empty.
EXAMPLES: dict[str, dict] = {
    "GridConfig": {"datasets": ("iris", "wine"), "strategies": ("random", "block_influence"), "seeds": (0, 1),
                   "metrics": ("privacy",)},
    "PlanConfig": {"remove": "50%", "protect": ("first", 2), "mode": "iterative"},
    "BankConfig": {"datasets": ("iris",), "seeds": (3,)},
    "RunConfig": {"drop_columns": ("age",), "column_types": {"sex": "categorical"}, "metrics": ("quality",)},
    "EvalConfig": {"seeds": (4, 5), "metrics": ("quality", "privacy")},
    "FusionOptions": {"bank": "bank.csv", "exclude_datasets": ("iris", "wine"), "allow_overlap": True},
    "DepthOptions": {"remove": 2, "strategy": "taylor", "protect": ("first",), "mode": "iterative"},
    "ExploreConfig": {"model": "runs/teacher", "data": "iris", "methods": ("depth", "int8"), "quality_seeds": (0, 1)},
}
#: Modules that need an optional extra (imported if it is installed).
OPTIONAL = ("ray",)


def config_classes() -> list[type]:
    """Every ConfigMixin subclass defined in the package, after importing all its modules."""
    for module in pkgutil.walk_packages(fuseprune.__path__, "fuseprune."):
        try:
            importlib.import_module(module.name)
        except ImportError as error:
            if error.name not in OPTIONAL:
                raise
    found, todo = set(), [ConfigMixin]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("fuseprune."):
                found.add(sub)
    return sorted(found, key=lambda c: (c.__module__, c.__qualname__))


CLASSES = config_classes()


def test_the_walk_finds_the_configs_of_every_stage():
    names = {c.__name__ for c in CLASSES}
    assert {"EvalConfig", "GridConfig", "PlanConfig", "TrainConfig", "DistillConfig", "RunConfig", "FusionOptions",
            "StrategyOptions", "BankConfig", "TraceConfig"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_a_config_survives_a_json_round_trip(cls):
    config = cls(**EXAMPLES.get(cls.__name__, {}))
    again = cls.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config
    assert again.to_dict() == config.to_dict()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_field_has_help_and_unknown_keys_are_refused(cls):
    for option in fields(cls):
        assert option.metadata.get("help"), f"{cls.__name__}.{option.name} has no help"
        assert option.default is not MISSING or option.default_factory is not MISSING
    config = cls(**EXAMPLES.get(cls.__name__, {}))
    with pytest.raises(ConfigError, match=r"unknown \w+ field\(s\) no_such_option; known: "):
        cls.from_dict({**config.to_dict(), "no_such_option": 1})
