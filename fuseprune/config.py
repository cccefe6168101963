"""Shared behaviour of configuration dataclasses (dict round-trip that rejects unknown keys) and the engine's configs.

The engine's configs (:class:`LoopConfig`, :class:`DistillConfig`, :class:`PlanConfig`) live here, in a module
that imports no torch, so the command line builds its options from them; their checks import what they need.
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypeVar

from fuseprune.errors import ConfigError

if TYPE_CHECKING:
    from fuseprune.pruning.targets import Target

C = TypeVar("C", bound="ConfigMixin")
L = TypeVar("L", bound="LoopConfig")
#: Seeds seed numpy as well as torch, and numpy takes 0 .. 2**32 - 1.
MAX_SEED = 2**32 - 1
#: The bundled data set used when none is named.
DEFAULT_DATASET = "breast-cancer-wisconsin"
#: Fraction of a table's rows held out for evaluation when not told otherwise.
DEFAULT_HOLDOUT = 0.2


class ConfigMixin:
    """Mixin for dataclass configs: ``to_dict``/``from_dict`` and range checks.

    Every field should carry ``metadata={"help": ...}``; the command line builds
    its option help from it.
    """

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[C], payload: dict[str, Any]) -> C:
        """Build a config from a dict; unknown keys are rejected by name."""
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(payload) - names)
        if unknown:
            raise ConfigError(
                f"unknown {cls.__name__} field(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}."
            )
        return cls(**payload)

    @classmethod
    def help_of(cls, name: str) -> str:
        """Return the help text of field ``name`` with its default."""
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name == name:
                default = "" if f.default is MISSING else f" (default: {f.default})"
                return f"{f.metadata.get('help', '')}{default}"
        raise ConfigError(f"{cls.__name__} has no field {name!r}.")


def check_range(name: str, value: float, low: float, high: float, *, low_open: bool = False) -> None:
    """Raise ``ConfigError`` in the house shape unless ``low <= value <= high``."""
    ok = (low < value if low_open else low <= value) and value <= high
    if not ok:
        bound = f"greater than {low}" if low_open else f"at least {low}"
        limit = "" if high == float("inf") else f" and at most {high}"
        raise ConfigError(f"`{name}` must be {bound}{limit}; got {value}.")


def check_seed(name: str, value: object) -> None:
    """Raise ``ConfigError`` in the house shape unless ``value`` is an integer seed from 0 to 2**32 - 1."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise ConfigError(f"`{name}` must be an integer between 0 and {MAX_SEED}; got {value!r}.")


@dataclass(frozen=True)
class LoopConfig(ConfigMixin):
    """The settings every training loop shares (teacher training and distillation).

    Subclasses redefine a field to change its default or help text; the checks
    stay here.
    """

    max_epochs: int = field(default=50, metadata={"help": "upper bound on passes over the training rows"})
    batch_size: int = field(default=64, metadata={"help": "rows per optimisation step"})
    learning_rate: float = field(default=5e-4, metadata={"help": "peak AdamW learning rate"})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay"})
    warmup_fraction: float = field(default=0.02, metadata={"help": "fraction of steps with linear warm-up"})
    validation_fraction: float = field(default=0.1, metadata={"help": "training rows kept aside for early stopping"})
    patience: int = field(default=5, metadata={"help": "epochs without validation improvement before stopping"})
    max_minutes: float = field(
        default=0.0, metadata={"help": "wall-clock budget in minutes, checked after every step (0 = none)"}
    )
    seed: int = field(default=0, metadata={"help": "seed of shuffling, dropout and the validation split"})

    def __post_init__(self) -> None:
        check_range("max_epochs", self.max_epochs, 1, 100_000)
        check_range("batch_size", self.batch_size, 1, 1_000_000)
        check_range("learning_rate", self.learning_rate, 0.0, 1.0, low_open=True)
        check_range("weight_decay", self.weight_decay, 0.0, 1.0)
        check_range("warmup_fraction", self.warmup_fraction, 0.0, 1.0)
        check_range("validation_fraction", self.validation_fraction, 0.0, 0.5, low_open=True)
        check_range("patience", self.patience, 1, 100_000)
        check_range("max_minutes", self.max_minutes, 0.0, float("inf"))
        check_seed("seed", self.seed)

    @classmethod
    def from_recipe(cls: type[L], recipe: LoopRecipe, **overrides: Any) -> L:
        """Build a config from ``recipe``; ``overrides`` that are not None win over it."""
        chosen = {name: value for name, value in overrides.items() if value is not None}
        return cls(**{**recipe.to_dict(), **chosen})

    def _fill(self, recipe: LoopRecipe) -> None:
        """Set every field that is None to the recipe's value (for subclasses with None defaults)."""
        for name, value in recipe.to_dict().items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)


@dataclass(frozen=True)
class DistillConfig(LoopConfig):
    """How a pruned student is distilled from its teacher.

    The loss is ``alpha * T^2 * KL(teacher/T || student/T) + (1 - alpha) * CE
    + hidden_weight * alignment``; the remaining fields drive
    :func:`fuseprune.distill.distill_model` and :func:`fuseprune.tabular.distill_tabular`
    (the other loops use only the loss fields). The loop settings and their defaults
    are :class:`LoopConfig`'s.
    """

    alpha: float = field(
        default=0.5, metadata={"help": "weight of the KL term; 1 - alpha weighs the data cross-entropy"}
    )
    temperature: float = field(
        default=2.0, metadata={"help": "softmax temperature T of teacher and student for the KL"}
    )
    hidden_weight: float = field(
        default=0.0, metadata={"help": "weight of the hidden-state alignment between kept layers (0 = off)"}
    )
    hidden_loss: str = field(default="mse", metadata={"help": "hidden-state alignment: mse or cosine"})

    def __post_init__(self) -> None:
        from fuseprune.distill.losses import (
            HIDDEN_LOSSES,  # the registry lives with the losses
        )

        check_range("alpha", self.alpha, 0.0, 1.0)
        if not self.temperature > 0:  # also rejects NaN
            raise ConfigError(f"`temperature` must be greater than 0; got {self.temperature:g}.")
        check_range("hidden_weight", self.hidden_weight, 0.0, float("inf"))
        HIDDEN_LOSSES.get(self.hidden_loss)
        super().__post_init__()

    @property
    def uses_hidden(self) -> bool:
        """Whether the loss includes hidden-state alignment."""
        return self.hidden_weight > 0


@dataclass(frozen=True)
class PlanConfig(ConfigMixin):
    """Options of :func:`~fuseprune.pruning.make_plan` (everything but the model, the data and the strategy)."""

    remove: int | float | str | None = field(
        default=None, metadata={"help": "layers to remove: a count (3) or a percentage (50%)"}
    )
    max_params: int | None = field(
        default=None, metadata={"help": "remove layers until at most this many parameters remain"},
    )
    mode: str = field(
        default="one-shot",
        metadata={"help": "one-shot (rank once) or iterative (remove one layer, re-rank the smaller model, repeat)"},
    )
    protect: tuple[str | int, ...] = field(
        default=(), metadata={"help": "comma-separated layers never to remove: first, last or indices (e.g. 2,last)"}
    )
    seed: int = field(default=0, metadata={"help": "seed of scoring and of the random strategy"})

    def __post_init__(self) -> None:
        from fuseprune.pruning.planner import MODES, _as_tuple
        from fuseprune.pruning.targets import Target

        object.__setattr__(self, "protect", _as_tuple(self.protect))
        MODES.get(self.mode)
        Target.parse(self.remove, self.max_params)
        check_seed("seed", self.seed)

    @property
    def target(self) -> Target:
        """The parsed removal target."""
        from fuseprune.pruning.targets import Target

        return Target.parse(self.remove, self.max_params)


@dataclass(frozen=True)
class LoopRecipe:
    """The loop settings a model size trains well with: what a preset recommends.

    A config built from a recipe (:meth:`LoopConfig.from_recipe`, or a
    ``TrainConfig`` whose preset carries one) takes every value the user did not
    set from it; the ranges are checked by the config.
    """

    max_epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    warmup_fraction: float
    patience: int
    max_minutes: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict."""
        return asdict(self)

    def describe(self) -> str:
        """One line for help texts: ``lr 0.001, batch 64, ...``."""
        budget = f", at most {self.max_minutes:g} min" if self.max_minutes else ""
        return (f"at most {self.max_epochs} epochs{budget}, lr {self.learning_rate:g}, batch {self.batch_size}, "
                f"warm-up {self.warmup_fraction:g}, weight decay {self.weight_decay:g}, patience {self.patience}")
