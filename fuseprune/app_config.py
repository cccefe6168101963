"""The configs of the apps: training, sampling, evaluating a TabularGPT, fusion banks, comparison grids, the main job.

They live in a module that imports neither torch nor pandas, so the command
line builds its options (defaults and help) from them without loading either;
their checks import what they need when a config is built. Each is exported
where it is used: :class:`TrainConfig`, :class:`ScaleConfig`,
:class:`EvalConfig` and :class:`BankConfig` from :mod:`fuseprune.tabular`,
:class:`GridConfig` (and its :class:`Cell`) from :mod:`fuseprune.compare`, :class:`RunConfig` from
:mod:`fuseprune.pipeline`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from pathlib import Path

from fuseprune.config import (
    DEFAULT_DATASET,
    DEFAULT_HOLDOUT,
    ConfigMixin,
    LoopConfig,
    check_range,
    check_seed,
)
from fuseprune.errors import ConfigError, DataError, UnknownNameError
from fuseprune.presets import PRESETS

log = logging.getLogger(__name__)

#: Calibration rows (and rows per pass) that scoring and planning use by default, and banks and grids score on.
DEFAULT_CALIBRATION_ROWS = 256
DEFAULT_CALIBRATION_BATCH = 64


def _loop_help(name: str) -> str:
    return str(next(f.metadata["help"] for f in fields(LoopConfig) if f.name == name))


@dataclass(frozen=True)
class TrainConfig(LoopConfig):
    """How a TabularGPT is trained (the loop settings are :class:`~fuseprune.config.LoopConfig`'s).

    Loop settings left as None are taken from the preset's training recipe
    (:attr:`~fuseprune.presets.ModelPreset.training`), so ``TrainConfig(preset="seed")``
    trains the 43M-parameter model the way that size needs; values given explicitly win.
    After construction every field holds a concrete value.
    """

    preset: str = field(default="default", metadata={"help": "model size and training recipe: tiny, default or seed"})
    max_epochs: int | None = field(default=None, metadata={"help": _loop_help("max_epochs")})  # type: ignore[assignment]
    batch_size: int | None = field(default=None, metadata={"help": _loop_help("batch_size")})  # type: ignore[assignment]
    learning_rate: float | None = field(  # type: ignore[assignment]
        default=None, metadata={"help": _loop_help("learning_rate")})
    weight_decay: float | None = field(  # type: ignore[assignment]
        default=None, metadata={"help": _loop_help("weight_decay")})
    warmup_fraction: float | None = field(  # type: ignore[assignment]
        default=None, metadata={"help": _loop_help("warmup_fraction")})
    patience: int | None = field(default=None, metadata={"help": _loop_help("patience")})  # type: ignore[assignment]
    max_minutes: float | None = field(  # type: ignore[assignment]
        default=None, metadata={"help": _loop_help("max_minutes")})
    seed: int = field(default=0, metadata={"help": "seed of initialisation, shuffling and validation split"})

    def __post_init__(self) -> None:
        self._fill(PRESETS.get(self.preset).training)
        super().__post_init__()


#: Rows per chunk of sampling: the unit of work handed to a worker and written at once.
CHUNK_ROWS = 2048


@dataclass(frozen=True)
class ScaleConfig(ConfigMixin):
    """How many rows to sample and who samples them."""

    rows: int = field(default=100, metadata={"help": "rows to sample"})
    seed: int = field(default=0, metadata={"help": "sampling seed; row r of a seed is always the same row"})
    temperature: float = field(default=1.0, metadata={"help": "softmax temperature, above 0"})
    batch_size: int = field(default=0, metadata={
        "help": "rows decoded at once (0 = the fastest for the model's width)"})
    jobs: int = field(default=1, metadata={"help": "worker processes (or Ray tasks) sampling chunks at once"})
    backend: str = field(default="local", metadata={"help": "where workers run: local (processes) or ray"})
    ray_address: str | None = field(
        default=None,
        metadata={"help": "an existing Ray cluster (host:port) for --backend ray (default: start a local one)"})
    chunk_rows: int = field(default=CHUNK_ROWS, metadata={"help": "rows per chunk of work; does not change the rows"})

    def __post_init__(self) -> None:
        from fuseprune.tabular.runners import RUNNERS

        check_range("rows", self.rows, 1, float("inf"))
        check_range("temperature", self.temperature, 0.0, float("inf"), low_open=True)
        check_range("batch_size", self.batch_size, 0, float("inf"))
        check_range("jobs", self.jobs, 1, 1024)
        check_range("chunk_rows", self.chunk_rows, 1, float("inf"))
        RUNNERS.get(self.backend)  # an unknown backend is refused here, listing the known ones
        if self.ray_address and self.backend != "ray":
            raise ConfigError("`ray_address` needs the ray backend (--backend ray).")


#: Rows sampled per seed for scoring when not asked: the training split's size, at most this many.
DEFAULT_SCORING_ROWS = 2000
#: The most rows sampled per seed for scoring, whatever is asked (`evaluate --rows`, `EvalConfig.n_rows`).
MAX_SCORING_ROWS = 20_000
#: Most rows sampled per seed (and per timed run) by an evaluation.
MAX_EVAL_ROWS = 100_000


@dataclass(frozen=True)
class EvalConfig(ConfigMixin):
    """How a model is evaluated."""

    seeds: tuple[int, ...] = field(default=(0, 1, 2), metadata={
        "help": "sampling seeds, comma-separated; each figure is their mean"})
    n_rows: int = field(default=0, metadata={"help": f"rows sampled per seed, at most {MAX_EVAL_ROWS:,} (0 = the "
                                                   f"training split's size, at most {DEFAULT_SCORING_ROWS:,}; never "
                                                   f"more than {MAX_SCORING_ROWS:,} are scored)"})
    speed_rows: int = field(default=1024, metadata={"help": "rows sampled per timed speed run"})
    speed_repeats: int = field(default=5, metadata={"help": "timed speed runs; rows/s is their median"})
    batch_size: int = field(default=0, metadata={
        "help": "rows sampled at once (0 = the fastest for the model's width)"})
    ceiling: bool = field(default=True, metadata={
        "help": "also score real rows in the generator's place (the reference)"})
    metrics: tuple[str, ...] = field(default=("default",), metadata={
        "help": "comma-separated metrics, `default` (fast) or `all`; `fuseprune metrics` lists them"})
    target: str = field(default="", metadata={"help": "column the utility metric predicts (default: the bundled data "
                                                      "set's own; required for utility on a CSV)"})

    def __post_init__(self) -> None:
        from fuseprune.evaluation.metric import resolve_metrics

        object.__setattr__(self, "seeds", tuple(self.seeds))  # a JSON list comes back as the same config
        if not self.seeds:
            raise ConfigError("`seeds` must name at least one seed; got none.")
        for seed in self.seeds:
            check_seed("seeds", seed)
        check_range("n_rows", self.n_rows, 0, MAX_EVAL_ROWS)
        check_range("speed_rows", self.speed_rows, 1, MAX_EVAL_ROWS)
        check_range("speed_repeats", self.speed_repeats, 1, 1000)
        check_range("batch_size", self.batch_size, 0, float("inf"))
        object.__setattr__(self, "metrics", tuple(self.metrics))
        resolve_metrics(self.metrics)

    def scoring_rows(self, train_rows: int) -> int:
        """Rows sampled per seed for scoring: ``n_rows`` (or the training split's size), capped; a cap is logged."""
        wanted = self.n_rows or min(train_rows, DEFAULT_SCORING_ROWS)
        if wanted > MAX_SCORING_ROWS:
            log.warning("scoring %d sampled rows per seed, not %d: SDMetrics' cost grows with the rows and its "
                        "scores settle long before; sample more with `fuseprune sample`", MAX_SCORING_ROWS, wanted)
        return min(wanted, MAX_SCORING_ROWS)


#: Every bundled set but breast-cancer-diagnostic, whose 30 real-valued columns make
#: 161-token rows: its teacher alone takes longer to train than all the others.
DEFAULT_BANK_DATASETS = (
    "birthwt", "breast-cancer-wisconsin", "credit", "diabetes", "health-insurance", "iris", "pima", "titanic", "wine",
)


@dataclass(frozen=True)
class BankConfig(ConfigMixin):
    """What goes into a fusion bank."""

    datasets: tuple[str, ...] = field(default=DEFAULT_BANK_DATASETS, metadata={
        "help": "comma-separated bundled data sets (or CSV paths)"})
    seeds: tuple[int, ...] = field(default=(0, 1), metadata={"help": "teacher seeds per data set"})
    preset: str = field(default="default", metadata={"help": "teacher model size"})
    calibration_rows: int = field(default=DEFAULT_CALIBRATION_ROWS, metadata={
        "help": "training rows the signals use"})
    teachers: str = field(default="runs/teachers", metadata={"help": "teacher cache folder"})

    def __post_init__(self) -> None:
        object.__setattr__(self, "datasets", tuple(self.datasets))
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        if not self.datasets or not self.seeds:
            raise DataError("a bank needs at least one data set and one seed.")
        check_range("calibration_rows", self.calibration_rows, 1, float("inf"))

    def provenance(self) -> dict[str, object]:
        """What the bank header records (the teacher cache location is not part of it)."""
        return {"preset": self.preset, "datasets": list(self.datasets), "seeds": list(self.seeds),
                "calibration_rows": self.calibration_rows, "target": "increase in holdout NLL per token"}


@dataclass(frozen=True)
class Cell:
    """One (data set, seed, strategy) run of a comparison grid."""

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

    datasets: tuple[str, ...] = field(default=(), metadata={"help": "comma-separated bundled data sets or CSV paths"})
    strategies: tuple[str, ...] = field(default=("all",), metadata={"help": "comma-separated strategies, or all"})
    seeds: tuple[int, ...] = field(default=(0,), metadata={"help": "teacher seeds per data set"})
    preset: str = field(default="default", metadata={"help": "teacher model size"})
    quality_seeds: tuple[int, ...] = field(default=(0,), metadata={"help": "sampling seeds per quality figure"})
    calibration_rows: int = field(default=DEFAULT_CALIBRATION_ROWS, metadata={
        "help": "training rows strategies score on, at most 100,000"})
    speed_rows: int = field(default=256, metadata={"help": "rows per timed sampling run, at most 100,000"})
    distill: bool = field(default=False, metadata={"help": "also measure every step after a short distillation"})
    distill_epochs: int = field(default=3, metadata={"help": "epochs of that distillation, at most 1000"})
    quality_steps: str = field(default="all", metadata={
        "help": "steps whose samples are scored (quality, diagnostic, rows/s): all, or half (the teacher and half the "
                "layers removed; the holdout NLL is measured at every step)"})
    distill_steps: str = field(default="all", metadata={
        "help": "steps measured after distillation: all, or half (only with half the layers removed)"})
    bank: str = field(default="", metadata={
        "help": "bank for the strategies fitted on one, each without the cell's data set (default: the shipped one)"})
    regret: bool = field(default=False, metadata={
        "help": "measure every subset of layers on the holdout, so each step gets its regret among them"})
    regret_rows: int = field(default=512, metadata={
        "help": "holdout rows the subsets are measured on, at most 100,000"})
    distill_subsets: int = field(default=16, metadata={
        "help": "with --regret and --distill: random subsets of half the layers distilled as the reference"})
    metrics: tuple[str, ...] = field(default=(), metadata={
        "help": "evaluation metrics measured at every step besides SDMetrics quality: names, default or all "
                "(`fuseprune metrics` lists them; default: none)"})

    def __post_init__(self) -> None:
        from fuseprune.compare.grid import expand_metrics, expand_strategies
        from fuseprune.data import DATASETS

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
        check_range("regret_rows", self.regret_rows, 1, 100_000)
        check_range("distill_subsets", self.distill_subsets, 1, 10_000)
        for name in ("quality_steps", "distill_steps"):
            if getattr(self, name) not in ("all", "half"):
                raise ConfigError(f"`{name}` must be all or half; got {getattr(self, name)!r}.")
        object.__setattr__(self, "metrics", expand_metrics(self.metrics, self.datasets))

    def cells(self) -> list[Cell]:
        """Every cell, grouped by teacher (data set, seed) so a worker's cells share one teacher."""
        return [Cell(d, s, k) for d in self.datasets for s in self.seeds for k in self.strategies]

    def teachers(self) -> list[tuple[str, int]]:
        """Every (data set, seed) whose teacher the grid needs."""
        return [(d, s) for d in self.datasets for s in self.seeds]


@dataclass(frozen=True)
class RunConfig(ConfigMixin):
    """What the main job (:func:`fuseprune.pipeline.run_main`) does."""

    data: str = field(default=DEFAULT_DATASET, metadata={"help": "bundled data set name or CSV path"})
    preset: str = field(
        default="default", metadata={"help": "model size preset; its recipes train the teacher and distil the student"}
    )
    seed: int = field(default=0, metadata={"help": "training seed"})
    holdout: float = field(default=DEFAULT_HOLDOUT, metadata={"help": "fraction of rows held out for evaluation"})
    split_seed: int = field(default=0, metadata={"help": "seed of the train/holdout split"})
    remove: str = field(default="50%", metadata={"help": "layers to remove: a count or a percentage"})
    out: str = field(default="", metadata={"help": "run folder (default: runs/PRESET)"})
    retrain: bool = field(default=False, metadata={"help": "train a new teacher even if the run folder has one"})
    delimiter: str = field(default="", metadata={"help": "CSV field delimiter (empty = sniffed)"})
    drop_columns: tuple[str, ...] = field(default=(), metadata={"help": "columns left out of the table"})
    column_types: dict[str, str] = field(default_factory=dict, metadata={"help": "declared column kinds"})
    metrics: tuple[str, ...] = field(default=("default",), metadata={
        "help": "metrics teacher and student are evaluated with, comma-separated, `default` (fast) or `all`; "
                "`fuseprune metrics` lists them"})
    target: str = field(default="", metadata={"help": "column the utility metric predicts (default: the bundled data "
                                                      "set's own; required for utility on a CSV)"})

    def __post_init__(self) -> None:
        from fuseprune.evaluation.metric import resolve_metrics
        from fuseprune.pruning import Target

        check_range("holdout", self.holdout, 0.0, 1.0, low_open=True)
        check_seed("seed", self.seed)
        check_seed("split_seed", self.split_seed)
        depth = PRESETS.get(self.preset).n_layer
        count = Target.parse(self.remove, None).layer_count(depth)
        if count is not None and count > depth - 1:
            raise ConfigError(f"`remove` must be between 1 and {depth - 1} for the {depth}-layer {self.preset!r} "
                              f"preset; got {self.remove!r} ({count} layers).")
        object.__setattr__(self, "drop_columns", tuple(self.drop_columns))
        object.__setattr__(self, "metrics", tuple(self.metrics))
        resolve_metrics(self.metrics)  # an unknown name is refused before any work
        object.__setattr__(self, "out", self.out or f"runs/{self.preset}")
