"""The candidates of a compression search: every method at each of its settings, then their combinations.

First every method alone at each setting (``depth`` removes a fraction of the
layers by a strategy; ``sparsity`` zeroes a fraction of the projection
weights; ``svd`` keeps a fraction of each feed-forward projection's
parameters; ``tucker`` and ``tt`` cap the ranks of its tensor decomposition;
``int8`` has one setting). Then combinations, in
:data:`~fuseprune.explore.config.ORDER` (depth, then one of sparsity, svd,
tucker or tt, then int8 last), of the ``combine`` strongest settings of each
method that kept the target quality alone: a setting that loses too much alone
will not do better combined. The combinations therefore depend on the single
candidates' records, which a resumed search reads back, so they are the same.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fuseprune.explore.config import EXCLUSIVE, ExploreConfig

#: The name of the teacher's record.
TEACHER = "teacher"
#: How a setting becomes a method's options: method -> (option name, whether a larger value compresses more).
SETTINGS: dict[str, tuple[str, bool]] = {
    "depth": ("remove", True),
    "sparsity": ("sparsity", True),
    "svd": ("fraction", False),
    "tucker": ("rank", False),
    "tt": ("rank", False),
}
Options = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Candidate:
    """A sequence of compression requests ``(method, options)`` applied in order."""

    steps: tuple[tuple[str, Options], ...]

    @property
    def name(self) -> str:
        """A readable, unique name: ``depth(remove=2,strategy=tail)+svd(fraction=0.5)+int8``."""
        return "+".join(method + (f"({','.join(f'{k}={_show(v)}' for k, v in options)})" if options else "")
                        for method, options in self.steps)

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods in the order they are applied."""
        return tuple(method for method, _ in self.steps)

    def requests(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """The ``(method, options)`` requests :func:`fuseprune.compress.make_compression_plan` takes."""
        for method, options in self.steps:
            yield method, dict(options)


def _show(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def step(config: ExploreConfig, method: str, value: float | None, layers: int) -> tuple[str, Options]:
    """The request of ``method`` at setting ``value`` for a teacher of ``layers`` layers."""
    if value is None:  # int8: no setting
        return method, ()
    option, _ = SETTINGS[method]
    options: dict[str, Any] = {option: removed_layers(value, layers) if method == "depth" else value}
    if method == "depth":
        options["strategy"] = config.depth_strategy
    return method, tuple(sorted(options.items()))


def removed_layers(fraction: float, layers: int) -> int:
    """Layers a depth ``fraction`` removes: rounded, at least one, at most all but one."""
    return max(1, min(layers - 1, round(fraction * layers)))


def settings(config: ExploreConfig, method: str, layers: int) -> list[float | None]:
    """The distinct settings of ``method``, weakest first (depth fractions that remove as many layers merged)."""
    values = config.settings(method)
    if not values:
        return [None]
    _, stronger_up = SETTINGS[method]
    ordered = sorted(set(values), reverse=not stronger_up)
    if method == "depth":
        seen: dict[int, float] = {}
        for value in ordered:
            seen.setdefault(removed_layers(value, layers), value)
        ordered = list(seen.values())
    return list(ordered)


def single_candidates(config: ExploreConfig, layers: int) -> list[Candidate]:
    """Every method alone at each of its settings, weakest first, methods in order."""
    return [Candidate((step(config, method, value, layers),))
            for method in config.methods if not (method == "depth" and layers < 2)
            for value in settings(config, method, layers)]


def combined_candidates(config: ExploreConfig, layers: int, records: Mapping[str, Mapping[str, Any]],
                        teacher_quality: float) -> list[Candidate]:
    """Combinations of the ``combine`` strongest settings per method that reached the target alone."""
    if config.combine == 0:
        return []
    chosen: dict[str, list[tuple[str, Options]]] = {}
    for method in config.methods:
        passing = []
        for value in settings(config, method, layers):
            request = step(config, method, value, layers)
            record = records.get(Candidate((request,)).name)
            if record is not None and record["quality"] >= config.target_quality * teacher_quality:
                passing.append(request)
        chosen[method] = passing[-config.combine:]
    stages = [["depth"], list(EXCLUSIVE), ["int8"]]
    options = [[None, *[r for method in stage for r in chosen.get(method, [])]] for stage in stages]
    found = []
    for picks in itertools.product(*options):
        steps = tuple(pick for pick in picks if pick is not None)
        if len(steps) >= 2:
            found.append(Candidate(steps))
    return found
