"""Every subset of layers measured with shared prefixes: one layer application per trie node.

With a set of layers removed, the hidden state after the kept layers
``i1 < i2 < ...`` depends only on that sequence. The kept sequences of all
requested subsets form a trie; walking it depth first applies each layer once
per trie node (instead of once per subset that keeps it) and applies the final
norm, head and loss at every node that is a requested subset's kept set. For
all 2^12 subsets of a 12-layer stack that is 4,095 layer applications per batch
instead of 24,576.

The layers' extra inputs (attention mask, positions, ...) are captured from one
normal forward of each batch, so the layers run exactly as inside the model.
Only stacks whose every layer gets the same extra inputs and whose head is
known are supported (:data:`HEADS`); each batch is checked against the normal
forward first, and a batch that disagrees is measured by brute force instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from fuseprune.models.adapters import LayerAdapter

log = logging.getLogger(__name__)

#: ``config.model_type`` -> (layer list, final norm, LM head): dotted paths from the top of the model.
HEADS: dict[str, tuple[str, str, str]] = {"gpt2": ("transformer.h", "transformer.ln_f", "lm_head")}

Head = Callable[[torch.Tensor], torch.Tensor]


def stack_head(adapter: LayerAdapter) -> Head | None:
    """Return the final norm + LM head of ``adapter``'s model if the fast path supports it, else None (logged)."""
    paths = HEADS.get(adapter.model_type or "")
    if paths is None:
        log.info("subset losses: brute force, no prefix-sharing support for model type %r", adapter.model_type)
        return None
    layer_path, norm_path, head_path = paths
    try:
        norm, head = adapter.model.get_submodule(norm_path), adapter.model.get_submodule(head_path)
        layers = adapter.model.get_submodule(layer_path)
    except AttributeError:
        log.info("subset losses: brute force, %s has no %r or %r", type(adapter.model).__name__, norm_path, head_path)
        return None
    if layers is not adapter.layers:
        log.info("subset losses: brute force, the layer list %r is not %r", adapter.layer_path, layer_path)
        return None
    return lambda hidden: head(norm(hidden))


@dataclass
class Captured:
    """What one normal forward of a batch gave: the first layer's inputs, the last layer's output, the logits."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    last: torch.Tensor
    logits: torch.Tensor


def capture(adapter: LayerAdapter, inputs: dict[str, Any]) -> Captured | None:
    """Run the intact model on ``inputs`` once and record its layer stack's inputs and output (None if unseen)."""
    seen: dict[str, Any] = {}

    def before(_module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        seen["args"], seen["kwargs"] = args, dict(kwargs)

    def after(_module: nn.Module, _args: tuple[Any, ...], output: Any) -> None:
        seen["last"] = _hidden_of(output)

    handles = [adapter.layers[0].register_forward_pre_hook(before, with_kwargs=True),
               adapter.layers[-1].register_forward_hook(after)]
    try:
        logits = adapter.logits(inputs)
    finally:
        for handle in handles:
            handle.remove()
    if "args" not in seen or "last" not in seen:
        log.warning("subset losses: %s's forward did not run its layer stack; this batch is measured by brute force",
                    type(adapter.model).__name__)
        return None
    return Captured(seen["args"], seen["kwargs"], seen["last"], logits)


def _hidden_of(output: Any) -> torch.Tensor:
    return output[0] if isinstance(output, tuple | list) else output


def _apply(layer: nn.Module, hidden: torch.Tensor, captured: Captured) -> torch.Tensor:
    """Run one layer on ``hidden`` with the extra inputs the model gave its first layer."""
    if captured.args:
        return _hidden_of(layer(hidden, *captured.args[1:], **captured.kwargs))
    return _hidden_of(layer(**{**captured.kwargs, "hidden_states": hidden}))


def _first_hidden(captured: Captured) -> torch.Tensor:
    return captured.args[0] if captured.args else captured.kwargs["hidden_states"]


def agrees(adapter: LayerAdapter, head: Head, captured: Captured) -> bool:
    """Whether running every layer by hand, then ``head``, reproduces the normal forward (else logged)."""
    hidden = _first_hidden(captured)
    for layer in adapter.layers:
        hidden = _apply(layer, hidden, captured)
    same = (hidden.shape == captured.last.shape and torch.allclose(hidden, captured.last, rtol=1e-5, atol=1e-6)
            and torch.allclose(head(hidden), captured.logits, rtol=1e-5, atol=1e-5))
    if not same:
        log.warning("subset losses: running the layers by hand does not reproduce %s's forward; "
                    "this batch is measured by brute force", type(adapter.model).__name__)
    return same


class KeptTrie:
    """The trie of the kept-layer sequences of requested subsets.

    Args:
        num_layers: Layers in the stack.
        subsets: Requested subsets of removed layers, each sorted (duplicates allowed).
    """

    def __init__(self, num_layers: int, subsets: Sequence[tuple[int, ...]]) -> None:
        self.wanted: dict[tuple[int, ...], list[int]] = {}
        self.children: dict[tuple[int, ...], set[int]] = {}
        for position, removed in enumerate(subsets):
            gone = set(removed)
            kept = tuple(layer for layer in range(num_layers) if layer not in gone)
            self.wanted.setdefault(kept, []).append(position)
            for depth, layer in enumerate(kept):
                self.children.setdefault(kept[:depth], set()).add(layer)

    @property
    def size(self) -> int:
        """Number of layer applications one walk makes (trie nodes below the root)."""
        return sum(len(layers) for layers in self.children.values())


def walk(
    adapter: LayerAdapter,
    head: Head,
    trie: KeptTrie,
    captured: Captured,
    measure: Callable[[torch.Tensor], float],
    done: Callable[[list[int], float], None],
) -> None:
    """Visit the trie depth first; call ``done(positions, measure(logits))`` at every requested node."""

    def visit(prefix: tuple[int, ...], hidden: torch.Tensor) -> None:
        positions = trie.wanted.get(prefix)
        if positions:
            done(positions, measure(head(hidden)))
        for layer in sorted(trie.children.get(prefix, ())):
            visit((*prefix, layer), _apply(adapter.layers[layer], hidden, captured))

    visit((), _first_hidden(captured))
