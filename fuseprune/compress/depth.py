"""``depth``: remove whole layers (today's layer plans, as a compression step).

The step records the removed layers (original indices of the model it was
planned on) and how they were chosen; applying it is
:func:`fuseprune.pruning.remove_layers`' surgery, so the result is a plain
GPT-2 of that depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import nn

from fuseprune.compress.base import Method, MethodOptions, PlanContext, other_model, register_method
from fuseprune.compress.plan import Step
from fuseprune.errors import ConfigError
from fuseprune.models.adapters import get_adapter
from fuseprune.pruning import make_plan, remove_layers

#: Strategies that rank without calibration data.
DATA_FREE = ("tail", "head", "random")


@dataclass(frozen=True)
class DepthOptions(MethodOptions):
    """Which layers a depth step removes: named ``layers``, or ``remove`` of them ranked by a ``strategy``."""

    layers: tuple[int, ...] = field(default=(), metadata={"help": "layer indices to remove (instead of a strategy)"})
    remove: int | float | str | None = field(
        default=None, metadata={"help": "layers to remove: a count, a fraction in (0, 1) or a percentage '50%'"})
    strategy: str = field(default="tail", metadata={"help": "strategy ranking the layers (with `remove`)"})
    mode: str = field(default="one-shot", metadata={"help": "one-shot or iterative"})
    protect: tuple[str | int, ...] = field(default=(), metadata={"help": "layers that stay: first, last, indices"})
    seed: int = field(default=0, metadata={"help": "seed of the scoring and of the random strategy"})

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "protect", tuple(self.protect))
        if bool(self.layers) == (self.remove is not None):
            raise ConfigError("a depth step needs exactly one of `layers` (indices) or `remove` (a count); "
                              f"got layers={list(self.layers)} and remove={self.remove!r}.")
        if any(isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in self.layers):
            raise ConfigError(f"`layers` must be layer indices (integers >= 0); got {list(self.layers)}.")
        if len(set(self.layers)) != len(self.layers):
            raise ConfigError(f"`layers` must not repeat a layer; got {list(self.layers)}.")


@register_method
class Depth(Method):
    """Remove whole layers with real surgery; the result is an ordinary GPT-2 of that depth."""

    name = "depth"
    description = "remove whole layers (a layer plan)"
    options_class = DepthOptions
    plain = True

    def plan(self, model: nn.Module, options: MethodOptions, context: PlanContext | None = None) -> Step:
        """The layers to remove: as named, or the ``remove`` lowest-ranked by the strategy."""
        if not isinstance(options, DepthOptions):
            options = self.options(options.to_dict())
        count = get_adapter(model).num_layers
        if options.layers:
            if max(options.layers) >= count or len(options.layers) >= count:
                raise ConfigError(f"`layers` must name at most {count - 1} of the layers 0 to {count - 1}; "
                                  f"got {list(options.layers)}.")
            return Step(self.name, {"layers": sorted(options.layers), "strategy": None})
        context = context or PlanContext()
        if not context.batches and options.strategy not in DATA_FREE:
            raise ConfigError(f"depth strategy {options.strategy!r} needs calibration batches; give them in the "
                              f"plan context, or use one of {', '.join(DATA_FREE)} or name `layers`.")
        batches = list(context.batches) or [{"input_ids": _dummy_ids(model)}]
        plan = make_plan(model, batches, options.strategy, remove=options.remove, mode=options.mode,
                         protect=options.protect, seed=options.seed, loss_fn=context.loss_fn,
                         progress=context.progress)
        record: dict[str, Any] = {"layers": sorted(plan.remove), "strategy": plan.strategy, "mode": plan.mode,
                                  "removal_order": list(plan.removal_order), "remove": options.remove}
        return Step(self.name, record)

    def apply(self, model: nn.Module, step: Step) -> None:
        """Delete the step's layers (surgery in place)."""
        layers = step.options.get("layers")
        if not isinstance(layers, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in layers):
            raise ConfigError(f"a depth step's `layers` must be a list of layer indices; got {layers!r:.60}.")
        count = get_adapter(model).num_layers
        if not layers or max(layers) >= count or min(layers) < 0 or len(set(layers)) >= count:
            raise other_model(step, f"it removes layers {layers} but the model has {count}")
        remove_layers(model, layers, inplace=True)


def _dummy_ids(model: nn.Module) -> Any:
    """One token row: the data-free strategies rank without reading it."""
    import torch

    return torch.zeros((1, 2), dtype=torch.long)
