"""``int8``: dynamic int8 quantisation of the projections for CPU inference.

Every dense layer inside the targeted projections (a GPT-2 ``Conv1D``, first
converted to the ``nn.Linear`` it equals, or a factor of an svd projection)
becomes a ``torch.ao.nn.quantized.dynamic.Linear``: int8 weights (per-tensor
symmetric scale) and activations quantised on the fly per batch. Tucker and TT
cores stay float. The result cannot be trained: heal (distil) before int8.

torch 2.13 marks its quantised tensors deprecated (pytorch issue 184982, in
favour of torchao); they still work, and the notice is silenced here.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear
from torch.ao.quantization import quantize_dynamic
from transformers.pytorch_utils import Conv1D

from fuseprune.compress.base import (
    Method,
    MethodOptions,
    PlanContext,
    check_target,
    other_model,
    projections,
    register_method,
    set_module,
)
from fuseprune.compress.plan import Step
from fuseprune.errors import ConfigError


@dataclass(frozen=True)
class Int8Options(MethodOptions):
    """Which projections are quantised."""

    target: str = field(default="all", metadata={"help": "projections: all, mlp or attention"})

    def __post_init__(self) -> None:
        check_target(self.target)


def as_linear(module: Conv1D) -> nn.Linear:
    """The ``nn.Linear`` that computes what the GPT-2 ``Conv1D`` does (weight transposed)."""
    n_in, n_out = module.weight.shape
    linear = nn.Linear(n_in, n_out, bias=module.bias is not None)
    with torch.no_grad():
        linear.weight.copy_(module.weight.t())
        if module.bias is not None:
            linear.bias.copy_(module.bias)
    return linear.to(module.weight.dtype)


def dense_layers(model: nn.Module, target: str) -> list[str]:
    """Names of the float dense layers (Conv1D or nn.Linear) inside the targeted projections, in model order."""
    names = []
    for name, module in projections(model, target):
        for inner, sub in module.named_modules():
            if isinstance(sub, Conv1D) or type(sub) is nn.Linear:
                names.append(f"{name}.{inner}" if inner else name)
    return names


@register_method
class Int8(Method):
    """Quantise the projections' dense layers to int8 (dynamic quantisation)."""

    name = "int8"
    description = "dynamic int8 quantisation of the projections (CPU inference; not trainable)"
    options_class = Int8Options
    trainable = False

    def plan(self, model: nn.Module, options: MethodOptions, context: PlanContext | None = None) -> Step:
        """The dense layers to quantise."""
        if not isinstance(options, Int8Options):
            options = self.options(options.to_dict())
        layers = dense_layers(model, options.target)
        if not layers:
            raise ConfigError(f"int8 found no float dense layer in the {options.target} projections "
                              "(already quantised, or Tucker/TT cores, which int8 leaves alone).")
        return Step(self.name, {"target": options.target, "layers": layers})

    def apply(self, model: nn.Module, step: Step) -> None:
        """Convert each named Conv1D to nn.Linear, then quantise the named layers dynamically."""
        layers = step.options.get("layers")
        if not isinstance(layers, list) or not layers or not all(isinstance(n, str) for n in layers):
            raise ConfigError("an int8 step's `layers` must be a list of layer names.")
        modules = dict(model.named_modules())
        for name in layers:
            module = modules.get(name)
            if not (isinstance(module, Conv1D) or type(module) is nn.Linear):
                raise other_model(step, f"{name!r} is not a float dense layer of the model")
            if isinstance(module, Conv1D):
                set_module(model, name, as_linear(module))
        with quiet_quantisation():
            quantize_dynamic(model, qconfig_spec=set(layers), dtype=torch.qint8, inplace=True)


@contextmanager
def quiet_quantisation() -> Iterator[None]:
    """Silence torch's notice that quantised tensors are deprecated (torch 2.13 still runs them; see the doc)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*quantized tensor creation functions.*", category=UserWarning)
        warnings.filterwarnings("ignore", message=".*torch.ao.quantization is deprecated.*",
                                category=DeprecationWarning)
        yield


def quantised_layers(model: nn.Module) -> dict[str, DynamicLinear]:
    """Name -> dynamic int8 layer of every quantised layer of ``model``."""
    return {name: module for name, module in model.named_modules() if isinstance(module, DynamicLinear)}
