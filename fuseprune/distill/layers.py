"""Record the output hidden state of every layer of a model while it runs (for hidden alignment)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from fuseprune.errors import ModelError
from fuseprune.models.adapters import get_adapter


class LayerOutputs:
    """Forward hooks that keep the latest output of each layer of ``model``.

    Use it as a context manager (hooks live inside the block, the outputs stay
    readable after it) or call :meth:`start` and :meth:`stop`.

    Args:
        model: A model whose layer stack :func:`fuseprune.models.get_adapter` finds.
        enabled: When False nothing is hooked and ``outputs`` stays empty.
    """

    def __init__(self, model: nn.Module, enabled: bool = True) -> None:
        self.model = model
        self.enabled = enabled
        self._slots: list[torch.Tensor | None] = []
        self._handles: list[Any] = []

    @property
    def outputs(self) -> list[torch.Tensor]:
        """Output of every layer in the latest forward pass (with its graph), or ``[]`` if none ran."""
        if not self._slots or any(slot is None for slot in self._slots):
            return []
        return list(self._slots)  # type: ignore[arg-type]

    def start(self) -> LayerOutputs:
        """Hook every layer (no-op when disabled or already started)."""
        if self.enabled and not self._handles:
            layers = get_adapter(self.model).layers
            self._slots = [None] * len(layers)
            self._handles = [layer.register_forward_hook(self._recorder(i)) for i, layer in enumerate(layers)]
        return self

    def stop(self) -> None:
        """Remove the hooks (the last outputs stay readable until :meth:`clear`)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def clear(self) -> None:
        """Forget the recorded outputs."""
        self._slots = [None] * len(self._slots)

    def _recorder(self, index: int) -> Callable[[nn.Module, tuple, Any], None]:
        def hook(module: nn.Module, args: tuple, output: Any) -> None:
            value = output[0] if isinstance(output, tuple | list) and output else output
            if not isinstance(value, torch.Tensor):
                raise ModelError(f"layer {index} must return a hidden-state tensor; got {type(value).__name__}.")
            self._slots[index] = value

        return hook

    def __enter__(self) -> LayerOutputs:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
