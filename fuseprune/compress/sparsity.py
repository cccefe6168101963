"""``sparsity``: unstructured magnitude pruning of the projections' weights.

The smallest weights by absolute value are set to zero, a ``sparsity`` fraction
of them, either over all targeted weights at once (``scope="global"``) or within
each weight matrix (``scope="layer"``). Ties are broken by position (a stable
sort), so the choice is deterministic. The step records how many weights each
matrix loses, so it replays exactly; the model stays a plain GPT-2 (zeros are
stored, nothing gets faster: dense kernels multiply the zeros too).

The weights are every float ``weight`` of a ``Conv1D`` or ``nn.Linear`` inside
the targeted projections (so a factorised projection's factors too); biases,
embeddings and norms are left alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn
from transformers.pytorch_utils import Conv1D

from fuseprune.compress.base import (
    Method,
    MethodOptions,
    PlanContext,
    check_target,
    nonzero_parameters,
    other_model,
    projections,
    register_method,
)
from fuseprune.compress.plan import Step
from fuseprune.errors import ConfigError

SCOPES = ("global", "layer")


@dataclass(frozen=True)
class SparsityOptions(MethodOptions):
    """How many weights to zero and where."""

    sparsity: float = field(default=0.5, metadata={"help": "fraction of the targeted weights set to zero, in [0, 1)"})
    scope: str = field(default="global", metadata={"help": "global (one threshold) or layer (per weight matrix)"})
    target: str = field(default="all", metadata={"help": "projections: all, mlp or attention"})

    def __post_init__(self) -> None:
        if isinstance(self.sparsity, bool) or not isinstance(self.sparsity, int | float) \
                or not 0 <= self.sparsity < 1:
            raise ConfigError(f"`sparsity` must be at least 0 and below 1; got {self.sparsity!r}.")
        if self.scope not in SCOPES:
            raise ConfigError(f"`scope` must be one of {', '.join(SCOPES)}; got {self.scope!r}.")
        check_target(self.target)


def prunable_weights(model: nn.Module, target: str) -> dict[str, torch.Tensor]:
    """Name -> weight of every float Conv1D/Linear weight inside the targeted projections, in model order."""
    found: dict[str, torch.Tensor] = {}
    for name, module in projections(model, target):
        for inner, sub in module.named_modules():
            weight = getattr(sub, "weight", None)
            if isinstance(sub, Conv1D | nn.Linear) and isinstance(weight, torch.Tensor) and weight.is_floating_point():
                found[".".join(p for p in (name, inner, "weight") if p)] = weight
    return found


def _global_counts(weights: dict[str, torch.Tensor], sparsity: float) -> dict[str, int]:
    values = torch.cat([w.detach().abs().flatten() for w in weights.values()])
    k = math.floor(sparsity * values.numel())
    owner = torch.cat([torch.full((w.numel(),), i) for i, w in enumerate(weights.values())])
    chosen = owner[torch.sort(values, stable=True).indices[:k]]
    counts = torch.bincount(chosen, minlength=len(weights))
    return {name: int(c) for name, c in zip(weights, counts, strict=True)}


@register_method
class Sparsity(Method):
    """Zero the smallest-magnitude projection weights (globally or per matrix)."""

    name = "sparsity"
    description = "unstructured magnitude pruning of the projection weights"
    options_class = SparsityOptions
    plain = True

    def plan(self, model: nn.Module, options: MethodOptions, context: PlanContext | None = None) -> Step:
        """How many weights each matrix loses."""
        if not isinstance(options, SparsityOptions):
            options = self.options(options.to_dict())
        weights = prunable_weights(model, options.target)
        if not weights:
            raise ConfigError(f"sparsity found no float weights in the {options.target} projections "
                              "(int8 projections cannot be pruned: put sparsity before int8).")
        if options.scope == "global":
            counts = _global_counts(weights, options.sparsity)
        else:
            counts = {name: math.floor(options.sparsity * w.numel()) for name, w in weights.items()}
        return Step(self.name, {"sparsity": options.sparsity, "scope": options.scope, "target": options.target,
                                "zeroed": sum(counts.values()), "counts": counts})

    def apply(self, model: nn.Module, step: Step) -> None:
        """Zero the ``counts[name]`` smallest weights of each named matrix (ties: the earlier position)."""
        given = {k: step.options[k] for k in ("sparsity", "scope", "target") if k in step.options}
        SparsityOptions(**given)  # a recorded sparsity outside [0, 1) or unknown scope is refused as when planned
        counts = step.options.get("counts")
        if not isinstance(counts, dict):
            raise ConfigError("a sparsity step's `counts` must map weight names to counts.")
        weights = prunable_weights(model, str(step.options.get("target", "all")))
        for name, count in counts.items():
            weight = weights.get(name)
            if weight is None:
                raise other_model(step, f"the model has no weight {name!r}")
            if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= weight.numel():
                raise other_model(step, f"{name!r} has {weight.numel()} weights; the step zeroes {count!r}")
            with torch.no_grad():
                flat = weight.view(-1)
                flat[torch.sort(flat.abs(), stable=True).indices[:count]] = 0


__all__ = ["SCOPES", "Sparsity", "SparsityOptions", "nonzero_parameters", "prunable_weights"]
