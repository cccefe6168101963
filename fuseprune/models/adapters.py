"""A uniform view of a model's layer stack: find it, run the model, skip layers.

``get_adapter(model)`` looks the architecture up by ``config.model_type``;
``get_adapter(model, layers="transformer.h")`` names the layer list explicitly
and works for any model whose layers map a hidden-state tensor to a tensor of
the same shape. To support a new architecture for good, register its spec:
``ARCHITECTURES.add("my_type", ArchitectureSpec(layer_path=..., num_layers_field=...))``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import torch
from torch import nn

from fuseprune.errors import ModelError
from fuseprune.models.architectures import ARCHITECTURES, ArchitectureSpec, supported_architectures

logger = logging.getLogger(__name__)

_LAYER_COUNT_FIELDS = ("num_hidden_layers", "n_layer", "num_layers")


class SkippedLayer(nn.Module):
    """A stand-in for a skipped layer: returns its input hidden state unchanged.

    Args:
        returns_tuple: Wrap the hidden state in a 1-tuple, as layers of older
            architectures return ``(hidden_states, ...)``.
    """

    def __init__(self, returns_tuple: bool = False) -> None:
        super().__init__()
        self.returns_tuple = returns_tuple

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor | tuple[torch.Tensor]:
        """Return the hidden state passed as first argument (or ``hidden_states=``)."""
        hidden = args[0] if args else kwargs["hidden_states"]
        return (hidden,) if self.returns_tuple else hidden


class LayerAdapter:
    """Where a model's layer stack lives and how to run the model around it.

    Build it with :func:`get_adapter`. The adapter holds a reference to the model;
    it never copies it and changes it only temporarily (:meth:`skip_layers`,
    :meth:`eager_attention`).

    Attributes:
        model: The wrapped model.
        model_type: ``config.model_type`` or ``None`` for a plain ``nn.Module``.
        spec: The architecture description (layer path relative to ``model``).
    """

    def __init__(self, model: nn.Module, spec: ArchitectureSpec, model_type: str | None = None) -> None:
        self.model = model
        self.spec = spec
        self.model_type = model_type
        self.layers = _resolve_layers(model, spec.layer_path)

    @property
    def layer_path(self) -> str:
        """Dotted path of the layer ``nn.ModuleList`` from the top of ``model``."""
        return self.spec.layer_path

    @property
    def num_layers(self) -> int:
        """Number of layers in the stack."""
        return len(self.layers)

    @property
    def num_layers_field(self) -> str | None:
        """Config field that holds the layer count (``None`` if the model has no config)."""
        return self.spec.num_layers_field or None

    @property
    def per_layer_fields(self) -> tuple[str, ...]:
        """Config fields holding one entry per layer that exist and are set on this model."""
        config = getattr(self.model, "config", None)
        return tuple(f for f in self.spec.per_layer_fields if getattr(config, f, None) is not None)

    @property
    def layer_boundary_fields(self) -> tuple[str, ...]:
        """Config fields holding a layer-index boundary that exist and are integers on this model."""
        config = getattr(self.model, "config", None)
        return tuple(f for f in self.spec.layer_boundary_fields if isinstance(getattr(config, f, None), int))

    @property
    def objective(self) -> str:
        """Language-model objective of the head: ``"causal"`` or ``"masked"``."""
        return self.spec.objective

    @property
    def device(self) -> torch.device:
        """Device of the model's first parameter (CPU for a parameterless model)."""
        param = next(self.model.parameters(), None)
        return param.device if param is not None else torch.device("cpu")

    def attention_module(self, index: int) -> nn.Module | None:
        """Return the self-attention module of layer ``index``, or ``None`` if unknown."""
        if self.spec.attention_path is None:
            return None
        try:
            return self.layers[index].get_submodule(self.spec.attention_path)
        except AttributeError:
            return None

    def layer_parameters(self, index: int) -> list[tuple[str, nn.Parameter]]:
        """Return ``(name, parameter)`` pairs of layer ``index``."""
        return list(self.layers[index].named_parameters())

    def logits(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Run the model on ``input_ids`` (and ``attention_mask``) and return its logits."""
        inputs = {"input_ids": batch["input_ids"]}
        if batch.get("attention_mask") is not None:
            inputs["attention_mask"] = batch["attention_mask"]
        output = self.model(**inputs, **self.spec.forward_kwargs)
        if isinstance(output, torch.Tensor):
            return output
        logits = getattr(output, "logits", None)
        if logits is None and isinstance(output, tuple | list):
            logits = output[0]
        if not isinstance(logits, torch.Tensor):
            raise ModelError(f"the model output has no logits; got {type(output).__name__}.")
        return logits

    @contextmanager
    def skip_layers(self, indices: Iterable[int]) -> Iterator[LayerAdapter]:
        """Temporarily replace the layers at ``indices`` with identity pass-throughs.

        The original modules are put back on exit, also when an error is raised.

        Args:
            indices: Layer indices to skip (0-based; duplicates are ignored).

        Yields:
            This adapter.
        """
        skipped = sorted(set(int(i) for i in indices))
        bad = [i for i in skipped if not 0 <= i < self.num_layers]
        if bad:
            raise ModelError(f"layer indices must be between 0 and {self.num_layers - 1}; got {bad}.")
        originals = {i: self.layers[i] for i in skipped}
        try:
            for i in skipped:
                self.layers[i] = SkippedLayer(self.spec.layer_returns_tuple)
            yield self
        finally:
            for i, module in originals.items():
                self.layers[i] = module

    @contextmanager
    def eager_attention(self) -> Iterator[LayerAdapter]:
        """Temporarily switch a transformers model to eager attention, which returns probabilities.

        SDPA and flash kernels never materialise attention probabilities. The
        previous implementation is restored on exit; both switches are logged.
        Models without ``set_attn_implementation`` are left as they are.

        Yields:
            This adapter.
        """
        config = getattr(self.model, "config", None)
        previous = getattr(config, "_attn_implementation", None)
        switch = getattr(self.model, "set_attn_implementation", None)
        if previous in (None, "eager") or switch is None:
            yield self
            return
        name = type(self.model).__name__
        logger.info("switching %s attention from %r to 'eager' to record attention probabilities", name, previous)
        switch("eager")
        try:
            yield self
        finally:
            switch(previous)
            logger.info("restored %s attention to %r", name, previous)

    def __repr__(self) -> str:
        return (
            f"LayerAdapter(model_type={self.model_type!r}, layer_path={self.layer_path!r}, "
            f"num_layers={self.num_layers})"
        )


def get_adapter(model: nn.Module, layers: str | None = None) -> LayerAdapter:
    """Return the :class:`LayerAdapter` of ``model``.

    Args:
        model: A transformers model of a supported architecture, or any module.
        layers: Dotted path of the layer ``nn.ModuleList`` from the top of ``model``
            (e.g. ``"transformer.h"``); required for unsupported architectures.

    Raises:
        ModelError: The architecture is unsupported and ``layers`` was not given, or
            ``layers`` does not name an ``nn.ModuleList``.
    """
    config = getattr(model, "config", None)
    model_type = getattr(config, "model_type", None)
    spec = ARCHITECTURES.get(model_type) if isinstance(model_type, str) and model_type in ARCHITECTURES else None
    if layers is not None:
        base = spec or ArchitectureSpec(layer_path=layers, num_layers_field=_guess_count_field(config))
        return LayerAdapter(model, replace(base, layer_path=layers), model_type)
    if spec is None:
        name = model_type or type(model).__name__
        raise ModelError(
            f"unsupported architecture {name!r}; supported: {', '.join(supported_architectures())}; "
            'otherwise name the layer list explicitly, e.g. layers="transformer.h".'
        )
    prefix = getattr(model, "base_model_prefix", "")
    for path in (f"{prefix}.{spec.layer_path}" if prefix else None, spec.layer_path):
        if path is not None and _has_module(model, path):
            return LayerAdapter(model, replace(spec, layer_path=path), model_type)
    raise ModelError(
        f"cannot find the layer list {spec.layer_path!r} in {type(model).__name__}; "
        'name it explicitly, e.g. layers="transformer.h".'
    )


def _guess_count_field(config: object) -> str:
    for name in _LAYER_COUNT_FIELDS:
        if isinstance(getattr(config, name, None), int):
            return name
    return ""


def _has_module(model: nn.Module, path: str) -> bool:
    try:
        model.get_submodule(path)
    except AttributeError:
        return False
    return True


def _resolve_layers(model: nn.Module, path: str) -> nn.ModuleList:
    try:
        module = model.get_submodule(path)
    except AttributeError:
        raise ModelError(f"`layers` must name a submodule of {type(model).__name__}; got {path!r}.") from None
    if not isinstance(module, nn.ModuleList):
        raise ModelError(f"`layers` must name an nn.ModuleList; {path!r} is a {type(module).__name__}.")
    if len(module) == 0:
        raise ModelError(f"`layers` must name a non-empty nn.ModuleList; {path!r} is empty.")
    return module
