"""DistillConfig: the weights of the distillation loss and the settings of the distillation loop."""

from __future__ import annotations

from dataclasses import dataclass, field

from fuseprune.config import LoopConfig, check_range
from fuseprune.errors import ConfigError


@dataclass(frozen=True)
class DistillConfig(LoopConfig):
    """How a pruned student is distilled from its teacher.

    The loss is ``alpha * T^2 * KL(teacher/T || student/T) + (1 - alpha) * CE
    + hidden_weight * alignment``; the remaining fields drive
    :func:`fuseprune.distill.distill_model` and :func:`fuseprune.tabular.distill_tabular`
    (the other loops use only the loss fields). The loop settings and their defaults are
    :class:`~fuseprune.config.LoopConfig`'s.
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
