"""The Signal and Reference base classes and their registries.

A :class:`Signal` reads the shared :class:`~fuseprune.scoring.trace.LayerTrace`
and returns one raw number per layer; it never runs the model itself (the trace
does, once). A :class:`Reference` is a strategy that is not trace-based (the
seeded ``random`` baseline and the ``ablation`` oracle) but returns the same
:class:`LayerScores`.

``needs`` vocabulary (what the trace must record for a signal):

- ``activations``: streaming statistics of each layer's input and output hidden states;
- ``samples``: a seeded, batch-invariant subsample of tokens, projected to a few dimensions;
- ``attentions``: attention-probability statistics (switches to eager attention);
- ``gradients``: loss gradients of each layer's parameters (one backward per batch);
- ``output_gradients``: loss gradients at each layer's output (same backward);
- ``weights``: the layer's weights only (no model pass);
- ``attribution``: captum layer attributions (one extra forward + backward per batch).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np
import torch

from fuseprune.errors import ConfigError
from fuseprune.registry import Registry
from fuseprune.scoring.scores import GOALS, LayerScores

if TYPE_CHECKING:
    from fuseprune.models.adapters import LayerAdapter
    from fuseprune.progress import Progress
    from fuseprune.scoring.trace import LayerTrace

FAMILIES = ("activation", "information", "gradient", "weight", "attention")
NEEDS = frozenset({"activations", "samples", "attentions", "gradients", "output_gradients", "weights", "attribution"})

#: ``loss_fn(logits, batch) -> scalar mean loss`` over the batch's target tokens.
LossFn = Callable[[torch.Tensor, Mapping[str, torch.Tensor]], torch.Tensor]


class Signal(ABC):
    """A cheap per-layer importance signal computed from the shared layer trace.

    Subclasses set the class attributes and implement :meth:`raw_scores`.

    Attributes:
        name: Registry name (set by :func:`register_signal`).
        family: One of ``FAMILIES``.
        goal: ``"maximize"`` if a higher raw value means "keep the layer", else ``"minimize"``.
        needs: What the trace must record (see the module docstring).
        description: One line saying what the raw value is.
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    goal: ClassVar[str] = "maximize"
    needs: ClassVar[frozenset[str]] = frozenset()
    description: ClassVar[str] = ""

    @abstractmethod
    def raw_scores(self, trace: LayerTrace) -> np.ndarray:
        """Return the raw value of every layer (shape ``[num_layers]``)."""

    def compute(self, trace: LayerTrace) -> LayerScores:
        """Return this signal's :class:`LayerScores` for the traced model."""
        raw = np.asarray(self.raw_scores(trace), dtype=np.float64)
        if raw.shape != (trace.num_layers,):
            raise ConfigError(f"{self.name} must return {trace.num_layers} values; got shape {raw.shape}.")
        return LayerScores(name=self.name, family=self.family, goal=self.goal, raw=tuple(raw))


class Reference(ABC):
    """A reference strategy scored like a signal but not from the trace (``random``, ``ablation``).

    Attributes:
        name: Registry name (set by :func:`register_reference`).
        goal: Direction of the raw value, as for signals.
        needs_data: Whether :meth:`score` iterates the calibration batches.
        description: One line saying what the raw value is.
    """

    name: ClassVar[str] = ""
    goal: ClassVar[str] = "maximize"
    needs_data: ClassVar[bool] = False
    description: ClassVar[str] = ""

    @abstractmethod
    def score(
        self,
        adapter: LayerAdapter,
        batches: Iterable[Mapping[str, Any]],
        *,
        seed: int = 0,
        loss_fn: LossFn | None = None,
        progress: Progress | None = None,
    ) -> LayerScores:
        """Return the reference's :class:`LayerScores` for the adapted model."""


SignalT = TypeVar("SignalT", bound=type[Signal])
ReferenceT = TypeVar("ReferenceT", bound=type[Reference])

#: Registered trace-based signals: name -> Signal subclass.
SIGNALS: Registry[type[Signal]] = Registry("signal")
#: Registered reference strategies: name -> Reference subclass.
REFERENCES: Registry[type[Reference]] = Registry("reference")


def register_signal(name: str) -> Callable[[SignalT], SignalT]:
    """Return a class decorator that registers a :class:`Signal` subclass as ``name``.

    Everything is checked before the registry or the class is changed.
    """

    def decorator(cls: SignalT) -> SignalT:
        _check_class(cls, Signal, name)
        if cls.family not in FAMILIES:
            raise ConfigError(f"`family` of signal {name!r} must be one of {', '.join(FAMILIES)}; got {cls.family!r}.")
        unknown = sorted(set(cls.needs) - NEEDS)
        if not cls.needs or unknown:
            raise ConfigError(
                f"`needs` of signal {name!r} must be a non-empty subset of {sorted(NEEDS)}; got {sorted(cls.needs)}."
            )
        SIGNALS.add(name, cls)
        cls.name = name
        return cls

    return decorator


def register_reference(name: str) -> Callable[[ReferenceT], ReferenceT]:
    """Return a class decorator that registers a :class:`Reference` subclass as ``name`` (checked first)."""

    def decorator(cls: ReferenceT) -> ReferenceT:
        _check_class(cls, Reference, name)
        REFERENCES.add(name, cls)
        cls.name = name
        return cls

    return decorator


def _check_class(cls: type, base: type, name: str) -> None:
    """Raise a one-line ``ConfigError`` unless ``cls`` may be registered as ``name``; changes nothing."""
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigError(f"only {base.__name__} subclasses can be registered; got {cls!r}.")
    if name in SIGNALS or name in REFERENCES:
        raise ConfigError(f"{name!r} is already registered as a signal or reference; pick another name.")
    own = vars(cls).get("name")
    if own and own != name:
        raise ConfigError(f"{cls.__name__}.name is {own!r} but it is registered as {name!r}.")
    if getattr(cls, "goal", None) not in GOALS:
        raise ConfigError(f"`goal` of {name!r} must be one of {', '.join(GOALS)}; got {getattr(cls, 'goal', None)!r}.")


def list_signals(family: str | None = None) -> list[str]:
    """Return the registered signal names (of one ``family`` if given), sorted."""
    if family is not None and family not in FAMILIES:
        raise ConfigError(f"`family` must be one of {', '.join(FAMILIES)}; got {family!r}.")
    return [n for n in SIGNALS.names() if family is None or SIGNALS.get(n).family == family]


def list_references() -> list[str]:
    """Return the registered reference-strategy names, sorted."""
    return REFERENCES.names()
