"""What every compression method shares: its options, its plan/apply contract, the registry and the projections.

A compression method is one registered :class:`Method` instance in
:data:`COMPRESSIONS`, with a frozen :class:`MethodOptions` dataclass. It is
planned, then applied, like a layer plan: ``plan(model, options, context)``
resolves the options against the model (the layers a depth strategy removes, the
rank of each projection, how many weights each projection loses) into a
JSON-ready :class:`~fuseprune.compress.plan.Step`; ``apply(model, step)`` changes
the model in place exactly as the step says, so a step replays on the same model.

The projections are GPT-2's four linear maps per block: ``attn.c_attn``,
``attn.c_proj`` (attention), ``mlp.c_fc`` and ``mlp.c_proj`` (feed-forward);
embeddings, norms and biases are never compressed.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import nn

from fuseprune.config import ConfigMixin
from fuseprune.errors import ConfigError, ModelError
from fuseprune.registry import Registry

if TYPE_CHECKING:
    from fuseprune.compress.plan import Step
    from fuseprune.progress import Progress
    from fuseprune.scoring import LossFn

#: Which projections a method may target, by option value.
TARGETS: dict[str, tuple[str, ...]] = {
    "mlp": ("mlp.c_fc", "mlp.c_proj"),
    "attention": ("attn.c_attn", "attn.c_proj"),
    "all": ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"),
}
_PROJECTION = re.compile(r"^transformer\.h\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)$")


@dataclass(frozen=True)
class PlanContext:
    """What planning may need besides the model (only a depth plan made by a data-driven strategy uses it).

    Attributes:
        batches: Calibration batches (dicts with ``input_ids`` and optional ``attention_mask``).
        loss_fn: Optional ``loss_fn(logits, batch) -> scalar`` for the scoring.
        progress: Optional progress reporter.
    """

    batches: Sequence[Mapping[str, Any]] = ()
    loss_fn: LossFn | None = None
    progress: Progress | None = None


@dataclass(frozen=True)
class MethodOptions(ConfigMixin):
    """Base of the options of a method: a frozen dataclass checked in ``__post_init__``."""

    @classmethod
    def build(cls, method: str, given: Mapping[str, Any]) -> MethodOptions:
        """Return the options of ``method`` from a mapping; an unknown name is refused by name."""
        names = tuple(f.name for f in fields(cls))
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise ConfigError(f"compression {method!r} has no option {', '.join(unknown)}; "
                              f"its options: {', '.join(names) or 'none'}.")
        return cls(**given)


class Method(ABC):
    """A compression method: plan it against a model, then apply the plan's step.

    Attributes:
        name: Registry name, recorded in every step.
        description: One line saying what it does.
        options_class: Its options dataclass.
        trainable: Whether a compressed model can still be distilled (int8 cannot).
        plain: Whether the result is still a plain GPT-2 (plain transformers loads it).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    options_class: ClassVar[type[MethodOptions]] = MethodOptions
    trainable: ClassVar[bool] = True
    plain: ClassVar[bool] = False

    def options(self, given: Mapping[str, Any] | MethodOptions | None = None) -> MethodOptions:
        """The method's options from a mapping (or as given)."""
        if isinstance(given, self.options_class):
            return given
        if isinstance(given, MethodOptions):
            raise ConfigError(f"compression {self.name!r} takes {self.options_class.__name__}; "
                              f"got {type(given).__name__}.")
        return self.options_class.build(self.name, dict(given or {}))

    @abstractmethod
    def plan(self, model: nn.Module, options: MethodOptions, context: PlanContext | None = None) -> Step:
        """Resolve ``options`` against ``model`` into a step (``model`` is not changed)."""

    @abstractmethod
    def apply(self, model: nn.Module, step: Step) -> None:
        """Change ``model`` in place as ``step`` says."""


#: Compression methods by name.
COMPRESSIONS: Registry[Method] = Registry("compression method")


def register_method(cls: type[Method]) -> type[Method]:
    """Class decorator: register one instance of ``cls`` under its ``name``."""
    COMPRESSIONS.add(cls.name, cls())
    return cls


def check_target(target: str) -> None:
    """Raise ``ConfigError`` unless ``target`` names a set of projections."""
    if target not in TARGETS:
        raise ConfigError(f"`target` must be one of {', '.join(TARGETS)}; got {target!r}.")


def projections(model: nn.Module, target: str = "all") -> list[tuple[str, nn.Module]]:
    """The (name, module) of every projection ``target`` names, in model order.

    Raises:
        ModelError: ``model`` is not a GPT-2 (no projection found).
    """
    check_target(target)
    wanted = TARGETS[target]
    found = [(name, module) for name, module in model.named_modules() if _PROJECTION.match(name)]
    if not found:
        raise ModelError(f"compression works on GPT-2 models; {type(model).__name__} has no GPT-2 projections.")
    return [(name, module) for name, module in found if name.endswith(wanted)]


def set_module(model: nn.Module, name: str, module: nn.Module) -> None:
    """Replace the submodule at dotted path ``name``."""
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)


def _quantised(model: nn.Module) -> list[torch.Tensor]:
    """The weights and biases int8 layers keep outside ``parameters()`` (dequantised to count them)."""
    tensors = []
    for module in model.modules():
        weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
        if callable(weight) and callable(bias):  # methods, not tensors: a quantised layer's packed values
            for value in (weight(), bias()):
                if isinstance(value, torch.Tensor):
                    tensors.append(value.dequantize() if value.is_quantized else value)
    return tensors


def parameter_count(model: nn.Module) -> int:
    """Number of weight values a model stores: its parameters (tied ones once) and its int8 layers' weights."""
    return sum(p.numel() for p in model.parameters()) + sum(t.numel() for t in _quantised(model))


def nonzero_parameters(model: nn.Module) -> int:
    """Number of non-zero weight values (tied weights counted once, int8 layers' weights included)."""
    return sum(int((p != 0).sum()) for p in (*model.parameters(), *_quantised(model)))


def other_model(step: Step, detail: str) -> ModelError:
    """The error for a step that does not fit the model it is applied to."""
    return ModelError(f"the {step.method} step was planned for another model: {detail}.")
