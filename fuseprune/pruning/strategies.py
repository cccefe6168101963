"""Strategies: how a plan ranks the layers of the current model.

Every registered signal and reference (``random``, ``ablation``) is a strategy
by its own name: :class:`SignalStrategy` scores the model with it and keeps its
normalised keep scores. Other strategies (the fusion issue's ``fusion-lr`` and
``fusion-rf``) join by registering a :class:`Strategy` subclass::

    @register_strategy("fusion-lr")
    class LinearFusionStrategy(Strategy):
        def rank(self, model, batches, context): ...

:func:`make_plan` also accepts a :class:`Strategy` instance (e.g. one holding a
fitted fusion model, or :class:`TableStrategy` for scores computed earlier).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from torch import nn

from fuseprune.errors import ConfigError, DataError, UnknownNameError
from fuseprune.models.adapters import get_adapter
from fuseprune.progress import Progress
from fuseprune.registry import Registry
from fuseprune.scoring import (
    REFERENCES,
    SIGNALS,
    LossFn,
    ScoreTable,
    list_references,
    list_signals,
    score_layers,
)


@dataclass(frozen=True)
class RankContext:
    """What a strategy may use besides the model and the batches.

    Attributes:
        seed: Seed of the scoring (token subsample, projections, ``random``).
        loss_fn: Optional ``loss_fn(logits, batch) -> scalar mean loss``.
        layers: Dotted path of the layer list (always set by :func:`make_plan`).
        progress: Optional progress reporter, passed on to the scoring.
        removed_fraction: Fraction of the original layers already removed (iterative
            plans update it after each removal; fusion uses it as a feature).
    """

    seed: int = 0
    loss_fn: LossFn | None = None
    layers: str | None = None
    progress: Progress | None = None
    removed_fraction: float = 0.0


@dataclass(frozen=True)
class Ranking:
    """A strategy's verdict on the layers of the model it was given.

    Attributes:
        keep: One score per layer; higher = keep. The lowest goes first.
        signal_scores: Keep score per layer of each signal the strategy used (for the plan).
        fused: Fused keep scores, if the strategy fuses signals.
        predicted_impact: Predicted impact of removing each layer alone, if the strategy predicts it.
    """

    keep: tuple[float, ...]
    signal_scores: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    fused: tuple[float, ...] | None = None
    predicted_impact: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        keep = tuple(float(v) for v in self.keep)
        if not keep or not all(math.isfinite(v) for v in keep):
            raise DataError(f"a ranking needs one finite keep score per layer; got {list(keep)}.")
        object.__setattr__(self, "keep", keep)
        for name, values in [*self.signal_scores.items(), ("fused", self.fused), ("predicted_impact",
                                                                                   self.predicted_impact)]:
            if values is not None and len(values) != len(keep):
                raise DataError(f"ranking scores {name!r} must have {len(keep)} values; got {len(values)}.")


class Strategy(ABC):
    """Ranks the layers of a model; a plan removes the lowest-ranked ones.

    Attributes:
        name: Registry name (set by :func:`register_strategy`), recorded in the plan.
        description: One line saying how the strategy ranks.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    @abstractmethod
    def rank(self, model: nn.Module, batches: Iterable[Mapping[str, Any]], context: RankContext) -> Ranking:
        """Return the :class:`Ranking` of every layer of ``model`` as it is now."""

    def parameters(self) -> dict[str, Any]:
        """JSON-ready settings of this strategy, recorded in the plan (none by default)."""
        return {}


class SignalStrategy(Strategy):
    """Rank by one registered signal or reference strategy (its normalised keep scores).

    Args:
        signal: A name from :func:`fuseprune.scoring.list_signals` or ``list_references``.
    """

    description = "the keep scores of one signal or reference"

    def __init__(self, signal: str) -> None:
        if signal not in SIGNALS and signal not in REFERENCES:
            raise UnknownNameError(f"unknown strategy {signal!r}; known: {', '.join(list_strategies())}.")
        self.signal = signal

    @property
    def name(self) -> str:  # type: ignore[override]
        """The signal's name."""
        return self.signal

    def rank(self, model: nn.Module, batches: Iterable[Mapping[str, Any]], context: RankContext) -> Ranking:
        """Score ``model`` with the signal and rank by its keep scores."""
        table = score_layers(model, batches, [self.signal], seed=context.seed, loss_fn=context.loss_fn,
                             layers=context.layers, progress=context.progress)
        scores = table[self.signal]
        return Ranking(keep=scores.keep, signal_scores={scores.name: scores.keep})


class TableStrategy(Strategy):
    """Rank by precomputed scores (a :class:`~fuseprune.scoring.ScoreTable` column): no model pass.

    Only one-shot: precomputed scores cannot be recomputed for a smaller model.

    Args:
        table: Scores of the intact model (e.g. read with ``ScoreTable.from_json``).
        signal: Which of the table's signals to rank by.
    """

    description = "precomputed keep scores of one signal"

    def __init__(self, table: ScoreTable, signal: str) -> None:
        self.scores = table[signal]
        self.seed = table.seed

    @property
    def name(self) -> str:  # type: ignore[override]
        """The signal's name."""
        return self.scores.name

    def rank(self, model: nn.Module, batches: Iterable[Mapping[str, Any]], context: RankContext) -> Ranking:
        """Return the table's keep scores; the model must have as many layers as the table."""
        count = get_adapter(model, context.layers).num_layers
        if count != self.scores.num_layers:
            raise ConfigError(f"precomputed {self.name} scores cover {self.scores.num_layers} layers but the model "
                              f"has {count}; they cannot be recomputed (use mode 'one-shot').")
        return Ranking(keep=self.scores.keep, signal_scores={self.name: self.scores.keep})

    def parameters(self) -> dict[str, Any]:
        """Where the scores came from."""
        return {"scores": "precomputed", "seed": self.seed}


StrategyT = TypeVar("StrategyT", bound=type[Strategy])

#: Strategies other than plain signals and references: name -> Strategy subclass (built without arguments).
STRATEGIES: Registry[type[Strategy]] = Registry("strategy")


def register_strategy(name: str) -> Callable[[StrategyT], StrategyT]:
    """Return a class decorator that registers a :class:`Strategy` subclass as ``name``."""

    def decorator(cls: StrategyT) -> StrategyT:
        if not (isinstance(cls, type) and issubclass(cls, Strategy)):
            raise ConfigError(f"only Strategy subclasses can be registered; got {cls!r}.")
        if name in SIGNALS or name in REFERENCES:
            raise ConfigError(f"{name!r} is already a signal or reference strategy; pick another name.")
        STRATEGIES.add(name, cls)
        cls.name = name
        return cls

    return decorator


def _load_builtin_strategies() -> None:
    """Import the modules that register strategies beyond signals (fusion), once, on first use."""
    import fuseprune.fusion.strategy  # noqa: F401  (registers fusion-lr and fusion-rf)


def list_strategies() -> list[str]:
    """Return every strategy name: registered strategies, signals and references, sorted."""
    _load_builtin_strategies()
    return sorted({*STRATEGIES.names(), *list_signals(), *list_references()})


def get_strategy(strategy: str | Strategy) -> Strategy:
    """Return the strategy named ``strategy`` (or ``strategy`` itself if it is one).

    Raises:
        UnknownNameError: The name is not a registered strategy, signal or reference;
            the message lists the known ones.
    """
    if isinstance(strategy, Strategy):
        return strategy
    _load_builtin_strategies()
    if isinstance(strategy, str) and strategy in STRATEGIES:
        return STRATEGIES.get(strategy)()
    if isinstance(strategy, str) and (strategy in SIGNALS or strategy in REFERENCES):
        return SignalStrategy(strategy)
    raise UnknownNameError(f"unknown strategy {strategy!r}; known: {', '.join(list_strategies())}.")
