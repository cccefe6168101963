"""LayerScores: one number per layer from one signal, raw and normalised to "keep" in [0, 1].

Normalisation: the raw values are first oriented so that higher means "keep"
(negated when the signal's goal is ``"minimize"``), then min-max scaled over the
layers of the model: the most important layer gets 1, the least important 0.
When every layer has the same raw value, every layer gets 0.5 (no preference).
Min-max keeps the order and the relative gaps of the raw values, needs no
distributional assumption and is what fusion compares across models.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fuseprune.errors import ConfigError, DataError

#: ``"maximize"``: a higher raw value means a more important layer; ``"minimize"``: lower.
GOALS = ("maximize", "minimize")


def normalise(raw: Sequence[float], goal: str) -> tuple[float, ...]:
    """Return the "keep" scores of ``raw``: oriented by ``goal``, min-max scaled to [0, 1].

    Args:
        raw: One finite value per layer.
        goal: ``"maximize"`` or ``"minimize"``.
    """
    values = np.asarray(raw, dtype=np.float64)
    oriented = values if goal == "maximize" else -values
    low, high = float(oriented.min()), float(oriented.max())
    if high - low <= 1e-12 * max(1.0, abs(high), abs(low)):
        return tuple(0.5 for _ in values)
    return tuple(float(v) for v in (oriented - low) / (high - low))


def keep_ranks(keep: Sequence[float]) -> tuple[int, ...]:
    """Return 1-based ranks: 1 = the layer to keep first; ties broken by layer index."""
    order = sorted(range(len(keep)), key=lambda i: (-keep[i], i))
    ranks = [0] * len(keep)
    for rank, index in enumerate(order, start=1):
        ranks[index] = rank
    return tuple(ranks)


@dataclass(frozen=True)
class LayerScores:
    """The scores one signal (or reference strategy) gives every layer of one model.

    Attributes:
        name: Signal or reference name (``"block_influence"``).
        family: Signal family, or ``"reference"`` for a reference strategy.
        goal: ``"maximize"`` if a higher raw value means "keep", else ``"minimize"``.
        raw: The raw value of each layer, in layer order.
        reference: True for reference strategies (``random``, ``ablation``).
        keep: Normalised "keep" score of each layer in [0, 1] (derived from ``raw``).
    """

    name: str
    family: str
    goal: str
    raw: tuple[float, ...]
    reference: bool = False
    keep: tuple[float, ...] = field(init=False)

    def __post_init__(self) -> None:
        if self.goal not in GOALS:
            raise ConfigError(f"`goal` must be one of {', '.join(GOALS)}; got {self.goal!r}.")
        raw = tuple(float(v) for v in self.raw)
        if not raw:
            raise DataError(f"{self.name} scores must have at least one layer; got none.")
        bad = [i for i, v in enumerate(raw) if not math.isfinite(v)]
        if bad:
            raise DataError(f"{self.name} scores must be finite; layers {bad} are not.")
        object.__setattr__(self, "raw", raw)
        object.__setattr__(self, "keep", normalise(raw, self.goal))

    @property
    def num_layers(self) -> int:
        """Number of layers scored."""
        return len(self.raw)

    @property
    def ranks(self) -> tuple[int, ...]:
        """1-based rank of each layer: 1 = most important ("keep first")."""
        return keep_ranks(self.keep)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (``keep`` included for readers; recomputed on load)."""
        return {
            "name": self.name,
            "family": self.family,
            "goal": self.goal,
            "reference": self.reference,
            "raw": list(self.raw),
            "keep": list(self.keep),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LayerScores:
        """Rebuild scores written by :meth:`to_dict`; unknown keys are rejected by name."""
        known = {"name", "family", "goal", "reference", "raw", "keep"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown LayerScores keys: {', '.join(unknown)}.")
        missing = sorted({"name", "family", "goal", "raw"} - set(data))
        if missing:
            raise ConfigError(f"LayerScores needs keys {', '.join(missing)}; they are missing.")
        return cls(
            name=str(data["name"]),
            family=str(data["family"]),
            goal=str(data["goal"]),
            raw=tuple(float(v) for v in data["raw"]),
            reference=bool(data.get("reference", False)),
        )
