"""Metrics on rows: the base class, the registry and the real rows every metric compares against.

A metric is a family of figures computed from three frames: the real training
rows, the real holdout rows (never trained on) and the synthetic rows, plus
the kind of every column. It knows nothing about the model that wrote the
rows. Each figure declares its goal (``maximize``, ``minimize`` or ``target``:
closest to ``ideal`` is best) and its range, as SDMetrics metrics do.

Beside every figure stands a *reference*: the same figure for real rows in the
generator's place. By default that is a sample of the real training rows,
scored against the holdout exactly as synthetic rows are (the "ceiling" a
generator can hardly beat); metrics whose reference needs other real rows
(privacy, utility) say so in their docstring.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import pandas as pd

from fuseprune.errors import ConfigError, DataError, UnknownNameError
from fuseprune.registry import Registry

GOALS = ("maximize", "minimize", "target")
KINDS = ("categorical", "numerical", "boolean")


@dataclass(frozen=True)
class Figure:
    """One number a metric reports.

    Attributes:
        name: Key in the evaluation record (``corr_mae``).
        label: What a table shows (``correlation divergence: mean |diff|``).
        goal: ``maximize``, ``minimize`` or ``target`` (closest to ``ideal``).
        low: Smallest possible value.
        high: Largest possible value.
        ideal: The value of a perfect generator, if there is one.
    """

    name: str
    label: str
    goal: str
    low: float
    high: float
    ideal: float | None = None

    def __post_init__(self) -> None:
        if self.goal not in GOALS:
            raise ConfigError(f"figure {self.name!r}: goal must be one of {', '.join(GOALS)}; got {self.goal!r}.")


@dataclass(frozen=True)
class RealRows:
    """The real rows a generator is judged against.

    Attributes:
        train: The rows the generator learned from.
        holdout: Rows it never saw.
        kinds: Column name -> ``categorical``, ``numerical`` or ``boolean``.
        target: The column utility metrics predict (None: no utility figures).
    """

    train: pd.DataFrame = field(repr=False)
    holdout: pd.DataFrame = field(repr=False)
    kinds: Mapping[str, str]
    target: str | None = None

    def __post_init__(self) -> None:
        columns = list(self.kinds)
        for name, frame in (("training", self.train), ("holdout", self.holdout)):
            if list(map(str, frame.columns)) != columns:
                raise DataError(f"the {name} rows' columns do not match the column kinds; "
                                f"expected {', '.join(columns)}.")
            if len(frame) < 2:
                raise DataError(f"the {name} split has {len(frame)} rows; evaluation needs at least 2.")
        unknown = sorted({k for k in self.kinds.values() if k not in KINDS})
        if unknown:
            raise DataError(f"column kinds must be one of {', '.join(KINDS)}; got {', '.join(unknown)}.")
        if self.target is not None and self.target not in self.kinds:
            raise DataError(f"--target names {self.target!r}, which is not a column; "
                            f"columns are: {', '.join(columns)}.")

    @cached_property
    def fingerprint(self) -> str:
        """A hash of both frames, the kinds and the target: equal real rows give equal fingerprints."""
        digest = hashlib.sha256()
        for frame in (self.train, self.holdout):
            digest.update(pd.util.hash_pandas_object(frame.astype(object), index=True).to_numpy().tobytes())
        digest.update(repr((sorted(self.kinds.items()), self.target)).encode())
        return digest.hexdigest()

    def columns_of(self, *kinds: str) -> list[str]:
        """The columns of the given kinds, in table order."""
        return [c for c, k in self.kinds.items() if k in kinds]

    def train_sample(self, n_rows: int, seed: int) -> pd.DataFrame:
        """``n_rows`` training rows (all of them if fewer) in a seeded random order."""
        return self.train.sample(n=min(n_rows, len(self.train)), random_state=seed).reset_index(drop=True)


class Metric:
    """A family of figures computed from real and synthetic rows.

    Subclasses set the class attributes and implement :meth:`compute`; they
    join the registry with :func:`register_metric`.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    figures: ClassVar[tuple[Figure, ...]] = ()
    default: ClassVar[bool] = True  # part of the default (fast) set
    rank: ClassVar[int] = 100  # position in tables: lower first

    def check(self, real: RealRows) -> None:
        """Raise a one-line error if this metric cannot be computed on ``real`` (before any sampling)."""

    def compute(self, real: RealRows, synthetic: pd.DataFrame, seed: int) -> dict[str, float]:
        """The figures of ``synthetic`` rows (a figure that does not apply is left out)."""
        raise NotImplementedError

    def reference(self, real: RealRows, n_rows: int, seed: int) -> dict[str, float]:
        """The figures of real rows in the generator's place: ``n_rows`` training rows."""
        return self.compute(real, real.train_sample(n_rows, seed), seed)

    def figure(self, name: str) -> Figure:
        """The declared figure called ``name``."""
        for figure in self.figures:
            if figure.name == name:
                return figure
        raise UnknownNameError(f"metric {self.name!r} has no figure {name!r}.")


METRICS: Registry[type[Metric]] = Registry("metric")
SETS = ("default", "all")


def register_metric(cls: type[Metric]) -> type[Metric]:
    """Class decorator: add a metric to the registry under its ``name``."""
    METRICS.add(cls.name, cls)
    return cls


def all_metrics() -> tuple[str, ...]:
    """Every registered metric, in display order."""
    return tuple(sorted(METRICS.names(), key=lambda name: (METRICS.get(name).rank, name)))


def default_metrics() -> tuple[str, ...]:
    """The registered metrics that are part of the default (fast) set, in display order."""
    return tuple(name for name in all_metrics() if METRICS.get(name).default)


def resolve_metrics(names: Iterable[str]) -> tuple[str, ...]:
    """Expand ``default`` and ``all``, check every name and drop repeats (the error lists the known ones)."""
    chosen: list[str] = []
    for name in names:
        if name == "default":
            expanded: Iterable[str] = default_metrics()
        elif name == "all":
            expanded = all_metrics()
        elif name in METRICS:
            expanded = [name]
        else:
            known = ", ".join([*SETS, *all_metrics()])
            raise UnknownNameError(f"unknown metric {name!r}; known: {known}.")
        chosen += [n for n in expanded if n not in chosen]
    if not chosen:
        raise ConfigError("`metrics` must name at least one metric; got none.")
    return tuple(chosen)
