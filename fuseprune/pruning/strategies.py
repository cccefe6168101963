"""Strategies: how a plan ranks the layers of the current model.

Every registered signal and reference (``random``, ``ablation``) is a strategy
by its own name: :class:`SignalStrategy` scores the model with it and keeps its
normalised keep scores. Other strategies are :class:`Strategy` subclasses with
an options dataclass (a :class:`StrategyOptions` subclass whose fields carry
``metadata={"help": ...}``); :func:`get_strategy` builds one by name with its
options as keyword arguments::

    @dataclass(frozen=True)
    class TopOptions(StrategyOptions):
        depth: int = field(default=2, metadata={"help": "layers looked at"})

    @register_strategy("top")
    class TopStrategy(Strategy):
        options_class = TopOptions

        def rank(self, model, batches, context): ...

    get_strategy("top", depth=3)

Installed packages add strategies through the entry-point group
``fuseprune.strategies`` (entry name = strategy name, value =
``module:StrategySubclass``), loaded once on the first lookup; fuseprune's own
fusion strategies (``fusion-lr``, ``fusion-rf``) join that way too.
:func:`make_plan` also accepts a :class:`Strategy` instance (e.g.
:class:`TableStrategy` for scores computed earlier).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from torch import nn

from fuseprune.config import ConfigMixin
from fuseprune.errors import ConfigError, DataError, UnknownNameError
from fuseprune.models.adapters import get_adapter
from fuseprune.progress import Progress
from fuseprune.scoring import REFERENCES, SIGNALS, LossFn, ScoreTable, list_references, list_signals, score_layers


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
        remove: How many layers the plan still removes from the model as given, when
            :func:`make_plan` knows (a layer count or percentage); None for a parameter
            budget or a one-layer-at-a-time path (comparisons, the fusion bank).
        protected: Positions in the model as given that the plan never removes.
    """

    seed: int = 0
    loss_fn: LossFn | None = None
    layers: str | None = None
    progress: Progress | None = None
    removed_fraction: float = 0.0
    remove: int | None = None
    protected: frozenset[int] = frozenset()


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


@dataclass(frozen=True)
class StrategyOptions(ConfigMixin):
    """The options of a strategy; this base has none.

    A strategy with options subclasses it: a frozen dataclass whose fields have
    defaults, carry ``metadata={"help": ...}`` and are checked in
    ``__post_init__`` (one-line :class:`~fuseprune.errors.ConfigError`).
    """

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The option names, in field order."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def build(cls, strategy: str, given: Mapping[str, Any]) -> StrategyOptions:
        """Return the options of ``strategy`` from keyword arguments; an unknown name is refused by name."""
        unknown = sorted(set(given) - set(cls.names()))
        if unknown:
            takes = f"its options: {', '.join(cls.names())}" if cls.names() else "it takes none"
            raise ConfigError(f"strategy {strategy!r} has no option {', '.join(unknown)}; {takes}.")
        return cls(**given)


class Strategy(ABC):
    """Ranks the layers of a model; a plan removes the lowest-ranked ones.

    Attributes:
        name: Registry name (checked or set by :func:`register_strategy`), recorded in the plan.
        description: One line saying how the strategy ranks.
        options_class: The :class:`StrategyOptions` subclass of its options.
        options: The options this instance was built with (recorded in the plan).
        needs_count: Whether it ranks only for a known number of layers to remove
            (``RankContext.remove``); such a strategy cannot follow a one-layer-at-a-time
            path, so comparisons leave it out.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    needs_count: ClassVar[bool] = False
    options_class: ClassVar[type[StrategyOptions]] = StrategyOptions
    options: StrategyOptions = StrategyOptions()

    def __init__(self, **options: Any) -> None:
        self.options = self.options_class.build(self.name or type(self).__name__, options)

    @abstractmethod
    def rank(self, model: nn.Module, batches: Iterable[Mapping[str, Any]], context: RankContext) -> Ranking:
        """Return the :class:`Ranking` of every layer of ``model`` as it is now."""

    def prepare(self) -> None:
        """Get ready to rank (e.g. fit on data); raise a ``FusepruneError`` if the strategy cannot be used."""
        return None

    def parameters(self) -> dict[str, Any]:
        """JSON-ready settings of this strategy, recorded in the plan: its options."""
        return self.options.to_dict()


class SignalStrategy(Strategy):
    """Rank by one registered signal or reference strategy (its normalised keep scores).

    Args:
        signal: A name from :func:`fuseprune.scoring.list_signals` or ``list_references``.
    """

    description = "the keep scores of one signal or reference"

    def __init__(self, signal: str, **options: Any) -> None:
        if signal not in SIGNALS and signal not in REFERENCES:
            known = sorted({*list_signals(), *list_references()})
            raise UnknownNameError(f"unknown signal or reference {signal!r}; known: {', '.join(known)}.")
        self.signal = signal
        super().__init__(**options)

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
        super().__init__()

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
