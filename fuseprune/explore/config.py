"""What `fuseprune compress` explores: the teacher, its table, the methods and their settings, and how each is measured.

:class:`ExploreConfig` holds everything that decides the results (not where
or how fast they are computed), so a results folder is resumed only by the
same settings. It imports neither torch nor pandas: the command line builds its
options from it; the checks import what they need.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fuseprune.config import ConfigMixin, check_range, check_seed
from fuseprune.errors import ConfigError, UnknownNameError

#: The order compression steps are applied in when combined (int8 always last).
ORDER = ("depth", "sparsity", "svd", "tucker", "tt", "int8")
#: Methods that replace the same projections: a candidate combines at most one of them.
EXCLUSIVE = ("sparsity", "svd", "tucker", "tt")


@dataclass(frozen=True)
class ExploreConfig(ConfigMixin):
    """The teacher, the methods and their settings, the healing budget and the measurements of a compression search."""

    model: str = field(default="", metadata={"help": "the teacher's model folder"})
    data: str = field(default="", metadata={"help": "bundled data set or CSV the teacher was trained on"})
    methods: tuple[str, ...] = field(default=("all",), metadata={
        "help": "comma-separated compression methods, or all: depth, sparsity, svd, tucker, tt, int8"})
    target_quality: float = field(default=0.99, metadata={
        "help": "fraction of the teacher's SDMetrics quality the chosen model must keep, in (0, 1]"})
    depth: tuple[float, ...] = field(default=(0.25, 0.5), metadata={
        "help": "depth: fractions of the layers removed (at least one layer, at most all but one)"})
    depth_strategy: str = field(default="tail", metadata={
        "help": "depth: the strategy choosing the layers (any of `fuseprune strategies`, e.g. tail or fusion-rf)"})
    sparsity: tuple[float, ...] = field(default=(0.1, 0.3, 0.5, 0.7, 0.9), metadata={
        "help": "sparsity: fractions of the projection weights set to zero, each in [0, 1)"})
    svd: tuple[float, ...] = field(default=(0.5, 0.25), metadata={
        "help": "svd: fractions of each feed-forward projection's parameters the two factors keep, each in (0, 1]"})
    tucker: tuple[int, ...] = field(default=(16, 8), metadata={
        "help": "tucker: caps on every mode rank of the feed-forward projections (2 modes per side)"})
    tt: tuple[int, ...] = field(default=(32, 16, 8), metadata={
        "help": "tt: caps on every inner tensor-train rank of the feed-forward projections (2 modes per side)"})
    combine: int = field(default=1, metadata={
        "help": "settings per method combined with the other methods' (the strongest that kept the target "
                "alone; 0 = no combinations)"})
    heal_epochs: int = field(default=3, metadata={
        "help": "epochs of distillation healing each trainable candidate (0 = no healing)"})
    heal_minutes: float = field(default=2.0, metadata={
        "help": "wall-clock budget of each candidate's healing in minutes (0 = no limit)"})
    quality_seeds: tuple[int, ...] = field(default=(0,), metadata={
        "help": "sampling seeds per quality figure, comma-separated"})
    speed_rows: int = field(default=0, metadata={
        "help": "rows per timed sampling run, at most 100,000 (0 = one full batch: fewer rows than the batch "
                "time a smaller batch, which flatters the compressed models)"})
    speed_repeats: int = field(default=3, metadata={
        "help": "timed runs of the candidate and the teacher each, alternating; rows/s is their median"})
    batch_size: int = field(default=0, metadata={
        "help": "rows sampled at once by every model (0 = the sampler's default for the teacher's width)"})

    def __post_init__(self) -> None:
        for name in ("methods", "depth", "sparsity", "svd", "tucker", "tt", "quality_seeds"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "methods", expand_methods(self.methods))
        if not self.model:
            raise ConfigError("a compression search needs the teacher's model folder; pass MODEL.")
        check_range("target_quality", self.target_quality, 0.0, 1.0, low_open=True)
        for value in self.depth:
            check_range("depth", value, 0.0, 1.0, low_open=True)
        for value in self.sparsity:
            check_range("sparsity", value, 0.0, 1.0)
            if value >= 1.0:
                raise ConfigError(f"`sparsity` must be at least 0 and below 1; got {value}.")
        for value in self.svd:
            check_range("svd", value, 0.0, 1.0, low_open=True)
        for name in ("tucker", "tt"):
            object.__setattr__(self, name, tuple(int(v) for v in getattr(self, name)))
            for value in getattr(self, name):
                check_range(name, value, 1, 100_000)
        for method in self.methods:
            if method != "int8" and not self.settings(method):
                raise ConfigError(f"method {method!r} needs at least one setting; pass --{method} values.")
        check_range("combine", self.combine, 0, 100)
        check_range("heal_epochs", self.heal_epochs, 0, 1000)
        check_range("heal_minutes", self.heal_minutes, 0.0, float("inf"))
        if not self.quality_seeds:
            raise ConfigError("`quality_seeds` must name at least one seed; got none.")
        for seed in self.quality_seeds:
            check_seed("quality_seeds", seed)
        check_range("speed_rows", self.speed_rows, 0, 100_000)
        check_range("speed_repeats", self.speed_repeats, 1, 1000)
        check_range("batch_size", self.batch_size, 0, 1_000_000)
        _check_strategy(self.depth_strategy)

    def settings(self, method: str) -> tuple[float, ...] | tuple[int, ...]:
        """The values explored for ``method`` (int8 has none: one candidate)."""
        return () if method == "int8" else tuple(getattr(self, method))


def expand_methods(names: tuple[str, ...]) -> tuple[str, ...]:
    """``all`` becomes every method; the others are checked (the error lists the known ones); in :data:`ORDER`."""
    chosen: set[str] = set()
    for name in names:
        if name == "all":
            chosen.update(ORDER)
        elif name in ORDER:
            chosen.add(name)
        else:
            raise UnknownNameError(f"unknown compression method {name!r}; known: all, {', '.join(ORDER)}.")
    if not chosen:
        raise ConfigError("a compression search needs at least one method; pass --methods all or a list.")
    return tuple(method for method in ORDER if method in chosen)


def _check_strategy(name: str) -> None:
    from fuseprune.pruning.registry import list_strategies

    if name not in list_strategies():
        raise UnknownNameError(f"unknown strategy {name!r}; known: {', '.join(list_strategies())}.")
