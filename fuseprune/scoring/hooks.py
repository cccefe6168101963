"""Forward hooks that feed the recorders while the model runs on a calibration batch.

A layer hook sees the layer's input hidden state (first positional argument or
``hidden_states=``) and its output (a tensor, or the first item of a tuple). It
reduces them on the fly; only when output gradients are needed does it keep the
current batch's layer outputs until the backward pass, then drops them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from fuseprune.errors import ModelError
from fuseprune.models.adapters import LayerAdapter
from fuseprune.scoring.batches import CalibrationBatch
from fuseprune.scoring.recorders import AttentionRecorder, HiddenRecorder
from fuseprune.scoring.sampler import TokenSampler


def _hidden(value: Any, what: str) -> torch.Tensor:
    if isinstance(value, tuple | list) and value:
        value = value[0]
    if not isinstance(value, torch.Tensor):
        raise ModelError(f"a layer {what} must be a hidden-state tensor [B, T, D]; got {type(value).__name__}.")
    return value


class TraceHooks:
    """Layer and attention hooks for one trace, dispatching to the recorders that are not ``None``.

    Args:
        adapter: The model's layer adapter.
        hidden: Recorder of hidden-state statistics.
        attention: Recorder of attention statistics.
        sampler: Token sampler of projected hidden states.
        keep_outputs: Keep each layer's output (with its graph) and residual update
            for the backward pass.
    """

    def __init__(
        self,
        adapter: LayerAdapter,
        hidden: HiddenRecorder | None = None,
        attention: AttentionRecorder | None = None,
        sampler: TokenSampler | None = None,
        keep_outputs: bool = False,
    ) -> None:
        self.adapter = adapter
        self.hidden = hidden
        self.attention = attention
        self.sampler = sampler
        self.keep_outputs = keep_outputs
        self.batch: CalibrationBatch | None = None
        self.outputs: list[torch.Tensor | None] = []
        self.deltas: list[torch.Tensor | None] = []

    def start_batch(self, batch: CalibrationBatch) -> None:
        """Set the batch the next forward pass runs on."""
        self.batch = batch
        self.outputs = [None] * self.adapter.num_layers
        self.deltas = [None] * self.adapter.num_layers

    def end_batch(self) -> None:
        """Drop everything kept for the current batch."""
        self.batch, self.outputs, self.deltas = None, [], []

    @contextmanager
    def installed(self) -> Iterator[TraceHooks]:
        """Register the hooks for the duration of the block, removing them on exit."""
        handles = []
        try:
            for index, layer in enumerate(self.adapter.layers):
                handles.append(layer.register_forward_hook(self._layer_hook(index), with_kwargs=True))
                if self.attention is not None:
                    handles.append(self._attention_module(index).register_forward_hook(self._attention_hook(index)))
            yield self
        finally:
            for handle in handles:
                handle.remove()

    def _attention_module(self, index: int) -> nn.Module:
        module = self.adapter.attention_module(index)
        if module is None:
            raise ModelError(
                f"attention signals need the attention module of each layer; {self.adapter.model_type or 'this model'} "
                "has none known; drop the attention signals."
            )
        return module

    def _layer_hook(self, index: int) -> Callable[..., None]:
        def hook(module: nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
            if self.batch is None:
                return
            h_in = _hidden(args[0] if args else kwargs.get("hidden_states"), "input")
            h_out = _hidden(output, "output")
            if h_in.shape != h_out.shape:
                shapes = f"{tuple(h_in.shape)} -> {tuple(h_out.shape)}"
                raise ModelError(f"layer {index} must keep the hidden-state shape; got {shapes}.")
            if self.hidden is not None:
                self.hidden.update(index, h_in, h_out, self.batch.valid)
            if self.sampler is not None:
                if index == 0:
                    self.sampler.record(0, h_in)
                self.sampler.record(index + 1, h_out)
            if self.keep_outputs:
                self.outputs[index] = h_out
                self.deltas[index] = (h_out - h_in).detach()

        return hook

    def _attention_hook(self, index: int) -> Callable[..., None]:
        def hook(module: nn.Module, args: tuple, output: Any) -> None:
            if self.batch is None or self.attention is None:
                return
            probs = output[1] if isinstance(output, tuple | list) and len(output) > 1 else None
            self.attention.update(index, probs, self.batch.valid)

        return hook
