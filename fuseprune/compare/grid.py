"""The comparison grid: which data sets, seeds and strategies, and how each step is measured.

A grid is every cell (data set, seed, strategy). A cell takes the teacher of
(data set, seed), removes one layer at a time by the strategy until one layer
is left, and measures the student after every step (step 0 is the intact
teacher). :class:`GridConfig` holds everything that decides the results, so a
results folder can refuse to be resumed by a different grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fuseprune.config import ConfigMixin, check_range, check_seed
from fuseprune.data import DATASETS
from fuseprune.errors import ConfigError, UnknownNameError
from fuseprune.pruning.registry import list_strategies
from fuseprune.tabular.model import PRESETS


@dataclass(frozen=True)
class Cell:
    """One (data set, seed, strategy) run of the grid."""

    dataset: str
    seed: int
    strategy: str

    @property
    def label(self) -> str:
        """Short name for progress and errors."""
        return f"{Path(self.dataset).stem}/{self.seed}/{self.strategy}"


@dataclass(frozen=True)
class GridConfig(ConfigMixin):
    """Everything that decides a comparison's results (not where or how fast it runs)."""

    datasets: tuple[str, ...] = field(default=(), metadata={"help": "bundled data sets or CSV paths"})
    strategies: tuple[str, ...] = field(default=("all",), metadata={"help": "strategies, or 'all'"})
    seeds: tuple[int, ...] = field(default=(0,), metadata={"help": "teacher seeds per data set"})
    preset: str = field(default="default", metadata={"help": "teacher model size"})
    quality_seeds: tuple[int, ...] = field(default=(0,), metadata={"help": "sampling seeds per SDMetrics quality"})
    calibration_rows: int = field(default=256, metadata={"help": "training rows the strategies score on"})
    speed_rows: int = field(default=256, metadata={"help": "rows per timed sampling run (rows/s)"})
    distill: bool = field(default=False, metadata={"help": "also measure each step after a short distillation"})
    distill_epochs: int = field(default=3, metadata={"help": "epochs of that distillation"})
    bank: str = field(default="", metadata={
        "help": "bank for the strategies fitted on one, each without the cell's data set (empty = their default)"})
    metrics: tuple[str, ...] = field(default=(), metadata={
        "help": "evaluation metrics measured at every step besides SDMetrics quality (names, default or all)"})

    def __post_init__(self) -> None:
        for name in ("datasets", "strategies", "seeds", "quality_seeds", "metrics"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "strategies", expand_strategies(self.strategies))
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        if not self.datasets:
            raise ConfigError("a grid needs at least one data set; pass --datasets a,b,c.")
        for dataset in self.datasets:
            if dataset not in DATASETS and not Path(dataset).is_file():
                raise UnknownNameError(
                    f"unknown data set {dataset!r}; known: {', '.join(sorted(DATASETS))} (or the path of a CSV file)."
                )
        if not self.seeds or not self.quality_seeds:
            raise ConfigError("a grid needs at least one teacher seed and one sampling seed.")
        for name in ("seeds", "quality_seeds"):
            for seed in getattr(self, name):
                check_seed(name, seed)
        if self.preset not in PRESETS:
            raise UnknownNameError(f"unknown preset {self.preset!r}; known: {', '.join(PRESETS)}.")
        check_range("calibration_rows", self.calibration_rows, 1, 100_000)
        check_range("speed_rows", self.speed_rows, 1, 100_000)
        check_range("distill_epochs", self.distill_epochs, 1, 1000)
        object.__setattr__(self, "metrics", expand_metrics(self.metrics, self.datasets))

    def cells(self) -> list[Cell]:
        """Every cell, grouped by teacher (data set, seed) so a worker's cells share one teacher."""
        return [Cell(d, s, k) for d in self.datasets for s in self.seeds for k in self.strategies]

    def teachers(self) -> list[tuple[str, int]]:
        """Every (data set, seed) whose teacher the grid needs."""
        return [(d, s) for d in self.datasets for s in self.seeds]


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
    """``all`` becomes every strategy; other names are checked (the error lists the known ones)."""
    known = list_strategies()
    chosen: list[str] = []
    for name in names:
        for strategy in known if name == "all" else [name]:
            if strategy not in known:
                raise UnknownNameError(f"unknown strategy {strategy!r}; known: all, {', '.join(known)}.")
            if strategy not in chosen:
                chosen.append(strategy)
    if not chosen:
        raise ConfigError("a grid needs at least one strategy; pass --strategies all or a list.")
    return tuple(chosen)
