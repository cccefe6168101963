"""DistillConfig: the weights of the distillation loss and the settings of the distillation loop."""

from __future__ import annotations

from dataclasses import dataclass, field

from fuseprune.config import ConfigMixin, check_range
from fuseprune.errors import ConfigError


@dataclass(frozen=True)
class DistillConfig(ConfigMixin):
    """How a pruned student is distilled from its teacher.

    The loss is ``alpha * T^2 * KL(teacher/T || student/T) + (1 - alpha) * CE
    + hidden_weight * alignment``; the remaining fields drive
    :func:`fuseprune.distill.distill_tabular` (the other loops use only the loss
    fields).
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
    max_epochs: int = field(default=50, metadata={"help": "upper bound on passes over the training rows"})
    batch_size: int = field(default=64, metadata={"help": "rows per optimisation step"})
    learning_rate: float = field(default=5e-4, metadata={"help": "peak AdamW learning rate"})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay"})
    warmup_fraction: float = field(default=0.02, metadata={"help": "fraction of steps with linear warm-up"})
    validation_fraction: float = field(default=0.1, metadata={"help": "training rows kept aside for early stopping"})
    patience: int = field(default=5, metadata={"help": "epochs without validation improvement before stopping"})
    max_minutes: float = field(default=0.0, metadata={"help": "wall-clock budget in minutes (0 = none)"})
    seed: int = field(default=0, metadata={"help": "seed of shuffling, dropout and the validation split"})

    def __post_init__(self) -> None:
        from fuseprune.distill.losses import HIDDEN_LOSSES  # the registry lives with the losses

        check_range("alpha", self.alpha, 0.0, 1.0)
        if not self.temperature > 0:  # also rejects NaN
            raise ConfigError(f"`temperature` must be greater than 0; got {self.temperature:g}.")
        check_range("hidden_weight", self.hidden_weight, 0.0, float("inf"))
        HIDDEN_LOSSES.get(self.hidden_loss)
        check_range("max_epochs", self.max_epochs, 1, 100_000)
        check_range("batch_size", self.batch_size, 1, 1_000_000)
        check_range("learning_rate", self.learning_rate, 0.0, 1.0, low_open=True)
        check_range("weight_decay", self.weight_decay, 0.0, 1.0)
        check_range("warmup_fraction", self.warmup_fraction, 0.0, 1.0)
        check_range("validation_fraction", self.validation_fraction, 0.0, 0.5, low_open=True)
        check_range("patience", self.patience, 1, 100_000)
        check_range("max_minutes", self.max_minutes, 0.0, float("inf"))

    @property
    def uses_hidden(self) -> bool:
        """Whether the loss includes hidden-state alignment."""
        return self.hidden_weight > 0
