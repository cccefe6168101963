"""TabularGPT presets: the size of a network and the training recipe that suits that size.

A preset is more than a shape. A 1.2M-parameter model and a 43M-parameter one
on the same few hundred rows need different learning rates, warm-up, batch
sizes, regularisation and budgets, so every preset carries the loop settings
its teachers are trained with (``training``) and its pruned students are
distilled with (``distillation``). :class:`~fuseprune.tabular.TrainConfig`
fills every setting the user leaves unset from its preset's ``training``
recipe; :func:`distill_config` does the same for distillation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fuseprune.config import LoopRecipe
from fuseprune.registry import Registry

if TYPE_CHECKING:
    from fuseprune.distill.config import DistillConfig

@dataclass(frozen=True)
class DistillRecipe(LoopRecipe):
    """The loop settings and the loss weights a preset's pruned students are distilled with."""

    alpha: float = 0.5
    temperature: float = 2.0

    def describe(self) -> str:
        """One line for help texts: the loop settings, then alpha and temperature."""
        return f"{super().describe()}, alpha {self.alpha:g}, temperature {self.temperature:g}"


#: How the ``tiny`` and ``default`` teachers are trained (unchanged since the
#: shipped fusion bank and the committed comparison were made with it).
SMALL_TRAINING = LoopRecipe(
    max_epochs=200, batch_size=64, learning_rate=1e-3, weight_decay=0.01, warmup_fraction=0.02, patience=10
)
#: How students of the ``tiny`` and ``default`` teachers are distilled (DistillConfig's own defaults).
SMALL_DISTILLATION = DistillRecipe(
    max_epochs=50, batch_size=64, learning_rate=5e-4, weight_decay=0.01, warmup_fraction=0.02, patience=5
)
#: The 43M-parameter ``seed`` teacher on a few hundred rows overfits within a
#: few epochs at the small models' settings: a ten times smaller learning rate
#: with a long warm-up, small batches for enough steps, strong weight decay (and
#: the preset's dropout of 0.3), early stopping soon after the validation loss
#: turns, and a wall-clock cap that is kept, not overrun.
SEED_TRAINING = LoopRecipe(
    max_epochs=12, batch_size=32, learning_rate=1e-4, weight_decay=0.1, warmup_fraction=0.1, patience=4,
    max_minutes=15.0,
)
#: Its half-depth students start from the teacher's layers and need only a short run at the teacher's
#: rate; at temperature 1 with most weight on the teacher they learn the distribution they will sample
#: from, which keeps each column's marginal closer to the teacher's than temperature 2.
SEED_DISTILLATION = DistillRecipe(
    max_epochs=10, batch_size=32, learning_rate=1e-4, weight_decay=0.1, warmup_fraction=0.1, patience=3,
    max_minutes=5.0, alpha=0.9, temperature=1.0,
)


@dataclass(frozen=True)
class ModelPreset:
    """Size of a TabularGPT network and the recipes it trains and distils with.

    Attributes:
        name: Registry name.
        n_layer, n_head, n_embd: GPT-2 depth, heads and width.
        dropout: Residual, embedding and attention dropout during training.
        description: One line for listings and help texts.
        training: Loop settings of teacher training (TrainConfig fills unset fields from it).
        distillation: Loop settings and loss weights of distilling a pruned student of this size.
    """

    name: str
    n_layer: int
    n_head: int
    n_embd: int
    dropout: float
    description: str
    training: LoopRecipe = SMALL_TRAINING
    distillation: DistillRecipe = SMALL_DISTILLATION

    def describe(self) -> str:
        """One line for help texts: shape, dropout and training recipe."""
        return (f"{self.name}: {self.n_layer} layers x {self.n_embd}, {self.n_head} heads, dropout {self.dropout:g}; "
                f"trains {self.training.describe()}")


PRESETS: Registry[ModelPreset] = Registry("model preset")
for _preset in (
    ModelPreset("tiny", 2, 2, 32, 0.0, "for tests: trains in seconds"),
    ModelPreset("default", 6, 4, 128, 0.1, "CPU-friendly: trains on the default data in minutes on two cores"),
    ModelPreset("deep", 12, 4, 64, 0.1, "twelve narrow layers: a CPU-cheap testbed where the choice of layers matters"),
    ModelPreset("seed", 6, 12, 768, 0.3, "the 43M-parameter baseline of the REaLTabFormer compression study",
                SEED_TRAINING, SEED_DISTILLATION),
):
    PRESETS.add(_preset.name, _preset)


def preset_of(model_config: Any, recorded: str | None = None) -> ModelPreset:
    """The preset whose recipes suit a model: the one it records, else one of its width and heads, else ``default``.

    Args:
        model_config: The model's GPT-2 config (``n_embd`` and ``n_head`` are read).
        recorded: The preset name the model's info records, if any.
    """
    if recorded is not None and recorded in PRESETS:
        return PRESETS.get(recorded)
    for name in PRESETS:
        preset = PRESETS.get(name)
        if (preset.n_embd, preset.n_head) == (
            getattr(model_config, "n_embd", None),
            getattr(model_config, "n_head", None),
        ):
            return preset
    return PRESETS.get("default")


def distill_config(preset: str | ModelPreset, **overrides: Any) -> DistillConfig:
    """A :class:`~fuseprune.distill.DistillConfig` from ``preset``'s distillation recipe; non-None overrides win."""
    from fuseprune.distill.config import DistillConfig  # late: the distill package imports this one

    spec = PRESETS.get(preset) if isinstance(preset, str) else preset
    return DistillConfig.from_recipe(spec.distillation, **overrides)
