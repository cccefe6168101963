"""The comparison grid: which data sets, seeds and strategies, and how each step is measured.

A grid is every cell (data set, seed, strategy). A cell takes the teacher of
(data set, seed), removes one layer at a time by the strategy until one layer
is left, and measures the student after every step (step 0 is the intact
teacher). :class:`GridConfig` (in :mod:`fuseprune.app_config`) holds everything that decides the results, so a
results folder can refuse to be resumed by a different grid.
"""

from __future__ import annotations

from fuseprune.app_config import Cell as Cell
from fuseprune.app_config import GridConfig as GridConfig
from fuseprune.data import DATASETS
from fuseprune.errors import ConfigError, UnknownNameError
from fuseprune.pruning.registry import list_strategies, strategy_class


def expand_metrics(names: tuple[str, ...], datasets: tuple[str, ...]) -> tuple[str, ...]:
    """The metrics besides ``quality`` (always measured), expanded and checked; utility needs bundled data."""
    from fuseprune.evaluation import resolve_metrics

    if not names:
        return ()
    chosen = tuple(name for name in resolve_metrics(names) if name != "quality")
    csv = [d for d in datasets if d not in DATASETS]
    if "utility" in names and csv:
        raise ConfigError(f"the utility metric needs a prediction target, which only bundled data sets name; "
                          f"{csv[0]!r} is a CSV file; leave utility out or compare bundled data sets.")
    return chosen


def expand_strategies(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``all`` becomes every strategy a cell can follow; other names are checked (the error lists the known ones).

    A strategy that ranks only for a known number of layers to remove (``needs_count``,
    e.g. ``exhaustive``, which evaluates every subset) is left out of ``all`` but may be
    named: in a cell it aims at half the layers (removing the best subset of that size
    one layer at a time), then removes one layer at a time.
    """
    known = list_strategies()
    stepwise = [name for name in known if not strategy_class(name).needs_count]
    chosen: list[str] = []
    for name in names:
        for strategy in stepwise if name == "all" else [name]:
            if strategy not in known:
                raise UnknownNameError(f"unknown strategy {strategy!r}; known: all, {', '.join(stepwise)}.")
            if strategy not in chosen:
                chosen.append(strategy)
    if not chosen:
        raise ConfigError("a grid needs at least one strategy; pass --strategies all or a list.")
    return tuple(chosen)
