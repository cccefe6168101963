"""Renumbering a kept layer: its ``layer_idx`` and everything that depends on it.

Every submodule of a layer that carries an integer ``layer_idx`` (self
attention, cross attention, ...) indexes the KV cache with it, so a layer that
moves from position ``old`` to ``new`` gets ``layer_idx = new``.

GPT-2 with ``scale_attn_by_inverse_layer_idx=True`` also divides its attention
scores by ``layer_idx + 1``: ``GPT2Attention.__init__`` precomputes
``scaling = head_dim ** -0.5 / (layer_idx + 1)`` (``1 / (layer_idx + 1)`` when
``scale_attn_weights`` is off), and a reloaded model recomputes it from the
new index. To keep the layer's scores exactly as before, its query projection
(the first ``split_size`` columns of ``c_attn`` for self attention, ``q_attn``
for cross attention, weights and bias) is multiplied by
``(new + 1) / (old + 1)`` and ``scaling`` is recomputed by the same formula as
the installed ``GPT2Attention``: ``q' k / (new + 1) == q k / (old + 1)``. The
model stays a plain ``GPT2LMHeadModel`` that ``from_pretrained`` loads.
"""

from __future__ import annotations

import logging

import torch
from torch import nn

from fuseprune.errors import ModelError

logger = logging.getLogger(__name__)


def renumber_layer(layer: nn.Module, old: int, new: int) -> int:
    """Move ``layer`` from position ``old`` to ``new``: renumber and compensate index-dependent scaling.

    Args:
        layer: One layer of the stack.
        old: Its position before surgery.
        new: Its position after surgery.

    Returns:
        How many submodules were renumbered.

    Raises:
        ModelError: A module scales attention by its layer index but has no query
            projection this function knows how to rescale.
    """
    count = 0
    for name, module in layer.named_modules():
        index = getattr(module, "layer_idx", None)
        if isinstance(index, bool) or not isinstance(index, int):
            continue
        if index != old:
            logger.warning("%s.layer_idx is %d but the layer sits at position %d; setting it to %d",
                           name or type(layer).__name__, index, old, new)
        if getattr(module, "scale_attn_by_inverse_layer_idx", False) and index != new:
            _compensate_inverse_index_scaling(module, index, new)
        module.layer_idx = new
        count += 1
    return count


def _compensate_inverse_index_scaling(module: nn.Module, old: int, new: int) -> None:
    factor = (new + 1) / (old + 1)
    weight, bias, width = _query_projection(module)
    with torch.no_grad():
        if width is None:
            weight.mul_(factor)
            if bias is not None:
                bias.mul_(factor)
        else:
            weight[:, :width].mul_(factor)  # Conv1D weight is [in, out]: q | k | v along the columns
            if bias is not None:
                bias[:width].mul_(factor)
    if hasattr(module, "scaling"):
        # nn.Module types unknown attributes as tensors or modules; head_dim is an int, scaling a float
        base = float(module.head_dim) ** -0.5 if getattr(module, "scale_attn_weights", False) else 1.0  # type: ignore[arg-type]
        module.scaling = base / float(new + 1)  # type: ignore[assignment]


def _query_projection(module: nn.Module) -> tuple[torch.Tensor, torch.Tensor | None, int | None]:
    """The query projection's weight and bias and, for a fused q|k|v projection, the width of the query part."""
    query = getattr(module, "q_attn", None)
    if getattr(module, "is_cross_attention", False) and query is not None:
        return query.weight, getattr(query, "bias", None), None
    fused = getattr(module, "c_attn", None)
    width = getattr(module, "split_size", None)
    if fused is not None and isinstance(width, int) and fused.weight.shape[-1] == 3 * width:
        return fused.weight, getattr(fused, "bias", None), width
    raise ModelError(
        f"{type(module).__name__} scales attention by 1 / (layer_idx + 1) but has no GPT-2 style query "
        "projection (c_attn or q_attn) to compensate the renumbering; it cannot be pruned exactly."
    )
