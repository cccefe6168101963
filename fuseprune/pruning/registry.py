"""The strategy registry: names -> :class:`~fuseprune.pruning.strategies.Strategy` subclasses, and plugins.

A strategy joins in one of two ways:

- in-process, with the :func:`register_strategy` class decorator;
- from an installed package, through the entry-point group :data:`ENTRY_POINT_GROUP`
  (``fuseprune.strategies``): the entry's name is the strategy's name and its
  value ``module:StrategySubclass``. fuseprune declares its own fusion
  strategies there (``pyproject.toml``). The group is read once, on the first
  lookup; a plugin that cannot be loaded is logged and left out.

Every signal and reference is a strategy by its own name as well
(:class:`~fuseprune.pruning.strategies.SignalStrategy`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields, is_dataclass
from importlib.metadata import PackageNotFoundError, distribution, entry_points
from typing import Any, TypeVar

from fuseprune.errors import ConfigError, UnknownNameError
from fuseprune.pruning.strategies import SignalStrategy, Strategy, StrategyOptions
from fuseprune.registry import Registry
from fuseprune.scoring import REFERENCES, SIGNALS, list_references, list_signals

log = logging.getLogger(__name__)

#: Entry-point group through which installed packages add strategies.
ENTRY_POINT_GROUP = "fuseprune.strategies"

StrategyT = TypeVar("StrategyT", bound=type[Strategy])

#: Strategies other than plain signals and references: name -> Strategy subclass.
STRATEGIES: Registry[type[Strategy]] = Registry("strategy")

_plugins = {"loaded": False}


def register_strategy(name: str) -> Callable[[StrategyT], StrategyT]:
    """Return a class decorator that registers a :class:`Strategy` subclass as ``name``.

    Everything is checked before the registry or the class is changed: the class,
    the name (free, and equal to the class's own ``name`` if it sets one) and its
    options class (a frozen :class:`StrategyOptions` dataclass whose fields carry help).
    """

    def decorator(cls: StrategyT) -> StrategyT:
        load_plugins()
        return _add(cls, name)

    return decorator


def register_builtin(name: str) -> Callable[[StrategyT], StrategyT]:
    """:func:`register_strategy` for fuseprune's own strategies, registered while :mod:`fuseprune.pruning` loads.

    It does not load the plugins first (they import fuseprune.pruning); a plugin of the same name is
    left out with a warning when they load.
    """

    def decorator(cls: StrategyT) -> StrategyT:
        return _add(cls, name)

    return decorator


def _add(cls: StrategyT, name: str) -> StrategyT:
    _check_strategy_class(cls, name)
    STRATEGIES.add(name, cls)
    cls.name = name
    return cls


def _check_strategy_class(cls: Any, name: str) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise ConfigError(f"only Strategy subclasses can be registered; got {cls!r}.")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"a strategy name must be a non-empty string; got {name!r}.")
    if name in SIGNALS or name in REFERENCES:
        raise ConfigError(f"{name!r} is already a signal or reference strategy; pick another name.")
    if name in STRATEGIES:
        raise ConfigError(f"strategy {name!r} is already registered; pick another name.")
    own = vars(cls).get("name")
    if isinstance(own, str) and own and own != name:
        raise ConfigError(f"{cls.__name__}.name is {own!r} but it is registered as {name!r}.")
    options = cls.options_class
    if not (isinstance(options, type) and issubclass(options, StrategyOptions) and is_dataclass(options)
            and options.__dataclass_params__.frozen):  # type: ignore[attr-defined]
        raise ConfigError(f"`options_class` of strategy {name!r} must be a frozen dataclass subclassing "
                          f"StrategyOptions; got {options!r}.")
    for option in fields(options):
        if not option.metadata.get("help"):
            raise ConfigError(f"option `{option.name}` of strategy {name!r} needs metadata={{'help': ...}}.")
        if option.default is MISSING and option.default_factory is MISSING:
            raise ConfigError(f"option `{option.name}` of strategy {name!r} needs a default.")


def load_plugins() -> None:
    """Register the strategies of the :data:`ENTRY_POINT_GROUP` entry points (once; later calls do nothing)."""
    if _plugins["loaded"]:
        return
    _plugins["loaded"] = True
    _check_own_metadata()
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = entry.load()
            if entry.name in STRATEGIES and STRATEGIES.get(entry.name) is cls:
                continue  # its module registered it with the decorator as well
            _check_strategy_class(cls, entry.name)
        except Exception as error:  # noqa: BLE001 - a broken plugin must not take the other strategies down
            log.warning("strategy plugin %s = %s is left out: %s", entry.name, entry.value, error)
            continue
        STRATEGIES.add(entry.name, cls)
        cls.name = entry.name


def _check_own_metadata() -> None:
    """Warn if fuseprune's installed metadata lacks the group: its own strategies would be missing."""
    try:
        declared = [e for e in distribution("fuseprune").entry_points if e.group == ENTRY_POINT_GROUP]
    except PackageNotFoundError:
        declared = []
    if not declared:
        log.warning("fuseprune's installed metadata declares no %s entry points (it is not installed, or was "
                    "installed from an older version), so its own strategies are missing; reinstall it "
                    "(pip install -e .)", ENTRY_POINT_GROUP)


def list_strategies() -> list[str]:
    """Return every strategy name: registered strategies, signals and references, sorted."""
    load_plugins()
    return sorted({*STRATEGIES.names(), *list_signals(), *list_references()})


def registered_strategies() -> list[str]:
    """Return the names of the registered strategies beyond single signals and references, sorted."""
    load_plugins()
    return STRATEGIES.names()


def strategy_class(strategy: str) -> type[Strategy]:
    """Return the class :func:`get_strategy` builds for the name ``strategy``.

    Raises:
        UnknownNameError: Not a registered strategy, signal or reference; the message lists the known ones.
    """
    load_plugins()
    if isinstance(strategy, str) and strategy in STRATEGIES:
        return STRATEGIES.get(strategy)
    if isinstance(strategy, str) and (strategy in SIGNALS or strategy in REFERENCES):
        return SignalStrategy
    raise UnknownNameError(f"unknown strategy {strategy!r}; known: {', '.join(list_strategies())}.")


def strategy_options(strategy: str) -> type[StrategyOptions]:
    """Return the options class of the strategy named ``strategy`` (its fields are the options it takes)."""
    return strategy_class(strategy).options_class


def get_strategy(strategy: str | Strategy, **options: Any) -> Strategy:
    """Return the strategy named ``strategy`` built with ``options`` (or ``strategy`` itself if it is one).

    Raises:
        UnknownNameError: The name is not a registered strategy, signal or reference;
            the message lists the known ones.
        ConfigError: An option the strategy does not take, or a bad value.
    """
    if isinstance(strategy, Strategy):
        if options:
            raise ConfigError(f"options ({', '.join(sorted(options))}) go with a strategy name, not with the "
                              f"already built strategy {strategy.name!r}.")
        return strategy
    cls = strategy_class(strategy)
    if cls is SignalStrategy:
        return SignalStrategy(strategy, **options)
    return cls(**options)


def applicable_options(strategy: str, candidates: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ``candidates`` that ``strategy`` takes as options, None values left out.

    For callers that offer every strategy the same settings (a bank, the data set
    to hold out) without knowing which strategy uses which.
    """
    takes = strategy_options(strategy).names()
    return {name: value for name, value in candidates.items() if name in takes and value is not None}
