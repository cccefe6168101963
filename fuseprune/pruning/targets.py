"""How many layers to remove and which ones may go: targets, protection and the removal ranking.

A target is a layer count (``remove=3``), a fraction of the layers
(``remove="50%"``: rounded half up, at least one layer) or a parameter budget
(``max_params=N``: remove the lowest-ranked layers until the model has at most
``N`` parameters). Protected layers (``"first"``, ``"last"`` or indices) are
never removed. Layers are removed lowest keep score first; ties go to the later
layer first (the reverse of :func:`fuseprune.scoring.scores.keep_ranks`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fuseprune.errors import ConfigError
from fuseprune.scoring.scores import keep_ranks

#: Names accepted in ``protect`` besides layer indices.
PROTECT_NAMES = ("first", "last")


@dataclass(frozen=True)
class Target:
    """How much to remove: exactly one of ``count``, ``fraction`` or ``max_params`` is set.

    Attributes:
        count: Number of layers to remove.
        fraction: Fraction of the layers to remove, in (0, 1).
        max_params: Parameter budget of the pruned model.
    """

    count: int | None = None
    fraction: float | None = None
    max_params: int | None = None

    @classmethod
    def parse(cls, remove: int | float | str | None, max_params: int | None) -> Target:
        """Build a target from the ``remove`` and ``max_params`` options (exactly one must be given)."""
        if remove is not None and max_params is None:
            return _parse_remove(remove)
        if remove is not None or max_params is None:
            raise ConfigError('give exactly one of `remove` (a count like 3 or a percentage like "50%") '
                              f"and `max_params`; got remove={remove!r}, max_params={max_params!r}.")
        if isinstance(max_params, bool) or not isinstance(max_params, int) or max_params < 1:
            raise ConfigError(f"`max_params` must be a positive integer; got {max_params!r}.")
        return cls(max_params=max_params)

    def layer_count(self, num_layers: int) -> int | None:
        """Layers to remove from a ``num_layers`` model (``None`` for a parameter budget)."""
        if self.fraction is not None:
            return max(1, math.floor(self.fraction * num_layers + 0.5))
        return self.count


def _parse_remove(remove: int | float | str) -> Target:
    shape = '`remove` must be a layer count (3) or a percentage of the layers ("50%")'
    if isinstance(remove, str):
        text = remove.strip()
        try:
            number = float(text[:-1]) if text.endswith("%") else int(text)
        except ValueError:
            raise ConfigError(f"{shape}; got {remove!r}.") from None
        remove = number / 100 if text.endswith("%") else number
        if text.endswith("%") and not 0 < remove < 1:
            raise ConfigError(f"`remove` as a percentage must be greater than 0% and less than 100%; got {text!r}.")
    if isinstance(remove, bool) or not isinstance(remove, int | float):
        raise ConfigError(f"{shape}; got {remove!r}.")
    if isinstance(remove, float):
        if not 0 < remove < 1:
            raise ConfigError(f"`remove` as a fraction must be greater than 0 and less than 1; got {remove!r}.")
        return Target(fraction=remove)
    if remove < 1:
        raise ConfigError(f"`remove` must be at least 1; got {remove}.")
    return Target(count=remove)


def protected_layers(protect: str | Iterable[str | int], num_layers: int) -> frozenset[int]:
    """Resolve ``"first"``, ``"last"`` and layer indices (ints or digit strings like ``"2"``) to a set of indices."""
    indices = set()
    for item in (protect,) if isinstance(protect, str) else protect:
        if isinstance(item, str) and item.strip().isdigit() and item.strip().isascii():
            item = int(item)  # "2" from a command line is a layer index
        if isinstance(item, str) and item in PROTECT_NAMES:
            indices.add(0 if item == "first" else num_layers - 1)
        elif isinstance(item, int) and not isinstance(item, bool) and 0 <= item < num_layers:
            indices.add(item)
        else:
            raise ConfigError(
                f"`protect` entries must be 'first', 'last' or a layer index between 0 and {num_layers - 1}; "
                f"got {item!r}."
            )
    return frozenset(indices)


def removal_ranking(keep: Sequence[float], eligible: Iterable[int]) -> list[int]:
    """Return the ``eligible`` positions in removal order: lowest keep score first, ties later layer first."""
    ranks = keep_ranks(keep)
    return sorted(eligible, key=lambda i: -ranks[i])


@dataclass(frozen=True)
class Selection:
    """A target resolved for one model: what may be removed and when to stop.

    Attributes:
        target: The target.
        protected: Original indices that must stay.
        layer_params: Parameters of each original layer.
        total_params: Distinct parameters of the whole model.
    """

    target: Target
    protected: frozenset[int]
    layer_params: tuple[int, ...]
    total_params: int

    @property
    def num_layers(self) -> int:
        """Layers of the intact model."""
        return len(self.layer_params)

    @property
    def max_removable(self) -> int:
        """Most layers that can go: all unprotected ones, but at least one layer must stay."""
        return min(self.num_layers - 1, self.num_layers - len(self.protected))

    def check(self) -> None:
        """Raise a one-line ``ConfigError`` if the target cannot be met."""
        note = f" ({len(self.protected)} protected)" if self.protected else ""
        if self.max_removable < 1:
            raise ConfigError(f"no layer can be removed from this {self.num_layers}-layer model{note}.")
        count = self.target.layer_count(self.num_layers)
        if count is not None and count > self.max_removable:
            asked = f"got {count}"
            if self.target.fraction is not None:
                asked = f"{self.target.fraction * 100:g}% of {self.num_layers} layers is {count}"
            raise ConfigError(f"`remove` must be between 1 and {self.max_removable} for this {self.num_layers}-layer "
                              f"model{note}; {asked}.")
        budget = self.target.max_params
        if budget is not None and self.total_params > budget:
            largest = sorted((self.layer_params[i] for i in self.eligible()), reverse=True)[: self.max_removable]
            smallest = self.total_params - sum(largest)
            if smallest > budget:
                raise ConfigError(f"`max_params` {budget} cannot be met without removing every layer{note}: the "
                                  f"smallest model keeping a layer has {smallest} parameters.")

    def eligible(self, original: Sequence[int] | None = None) -> list[int]:
        """Positions (in ``original``, default: the intact stack) whose original layer may be removed."""
        original = range(self.num_layers) if original is None else original
        return [p for p, o in enumerate(original) if o not in self.protected]

    def done(self, removed: Sequence[int]) -> bool:
        """Whether removing the original layers ``removed`` meets the target."""
        count = self.target.layer_count(self.num_layers)
        if count is not None:
            return len(removed) >= count
        left = self.total_params - sum(self.layer_params[i] for i in removed)
        return left <= (self.target.max_params or 0)

    def choose(self, keep: Sequence[float]) -> tuple[int, ...]:
        """One-shot choice: the lowest-ranked eligible layers that meet the target, in removal order."""
        order: list[int] = []
        for index in removal_ranking(keep, self.eligible()):
            if self.done(order) or len(order) >= self.max_removable:
                break
            order.append(index)
        if not self.done(order):
            raise ConfigError(f"`max_params` {self.target.max_params} cannot be met without removing every layer.")
        return tuple(order)
