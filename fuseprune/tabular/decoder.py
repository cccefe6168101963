"""Step-by-step decoding engines: the logits of one new token per row, given the rows' earlier tokens.

:class:`LeanGPT2` runs a ``GPT2LMHeadModel``'s own weights (nothing is copied
or changed; the model stays a plain ``GPT2LMHeadModel``) with a key/value
cache preallocated for the whole row, written in place, and computes only the
logits of the tokens the caller asks for. It does the same arithmetic as the
Hugging Face forward pass in evaluation mode (tested to 1e-5 at every step),
including the attention scaling flags ``scale_attn_weights`` and
``scale_attn_by_inverse_layer_idx`` read per layer from its ``layer_idx``, so
pruned models (renumbered and compensated by surgery) decode exactly.

A projection replaced by compression (two low-rank factors, a Tucker or
tensor-train layer, an int8 linear layer) is applied through its own module;
a plain ``Conv1D`` is multiplied in place as before.

Anything it does not implement (cross attention, ``reorder_and_upcast_attn``,
another architecture, a layer replaced by a wrapper) is decoded by
:class:`HFStepper`, the model's own forward pass with its own cache.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

import torch
from torch import nn
from torch.nn import functional as F

from fuseprune.models.cache import cache_kwargs, output_cache

if TYPE_CHECKING:
    from transformers.models.gpt2.modeling_gpt2 import GPT2Attention, GPT2Block, GPT2LMHeadModel

log = logging.getLogger(__name__)

_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gelu_new": lambda x: torch.ops.aten.gelu_(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: torch.ops.aten.gelu_(x, approximate="tanh"),
    "gelu": lambda x: torch.ops.aten.gelu_(x),
    "relu": torch.relu_,
    "silu": lambda x: F.silu(x, inplace=True),
    "swish": lambda x: F.silu(x, inplace=True),
}


#: Rows with identical tokens so far: (one representative row per group (groups,), group of every row (rows,)).
Groups = tuple[torch.Tensor, torch.Tensor]


class Stepper(Protocol):
    """Feeds one token per row at a time and returns logits of a range of next tokens."""

    def reset(self, rows: int, length: int) -> None:
        """Start ``rows`` new sequences of at most ``length`` tokens (forget every earlier token)."""

    def logits(
        self, tokens: torch.Tensor, position: int, low: int, high: int, groups: Groups | None = None
    ) -> torch.Tensor:
        """Feed ``tokens`` (rows,) at ``position``; return float logits (rows, high - low) of tokens low..high-1.

        ``groups`` may say which rows have had the same tokens up to and
        including ``position``; such rows have the same logits, so a stepper
        may compute one row per group.
        """


def unsupported_reason(model: nn.Module) -> str | None:
    """Why :class:`LeanGPT2` cannot decode ``model`` exactly, or None if it can."""
    config = getattr(model, "config", None)
    if getattr(config, "model_type", None) != "gpt2" or not hasattr(model, "transformer"):
        return f"{type(model).__name__} is not a GPT-2 language model"
    if getattr(config, "add_cross_attention", False):
        return "the model has cross attention"
    if getattr(config, "reorder_and_upcast_attn", False):
        return "the model sets reorder_and_upcast_attn"
    if getattr(model.lm_head, "bias", None) is not None:
        return "the output head has a bias"
    return _block_reason(cast("GPT2LMHeadModel", model))  # a GPT-2 language model, checked above


def _block_reason(model: GPT2LMHeadModel) -> str | None:
    """Why :class:`LeanGPT2` cannot decode the GPT-2 ``model``'s layers and weights, or None if it can."""
    from transformers.models.gpt2.modeling_gpt2 import GPT2Attention, GPT2Block

    for index, block in enumerate(model.transformer.h):
        if type(block) is not GPT2Block or type(block.attn) is not GPT2Attention:
            return f"layer {index} is a {type(block).__name__}, not a plain GPT2Block"
        if block.attn.layer_idx != index:  # the transformers cache is indexed by it
            return f"layer {index} has layer_idx {block.attn.layer_idx}"
        if attention_scaling(block.attn) is None:
            return "this transformers version scales attention by implementation, not by the scaling flags"
    weight = model.transformer.wte.weight
    if weight.dtype != torch.float32 or weight.device.type != "cpu":
        return f"the weights are {weight.dtype} on {weight.device.type}, not float32 on the CPU"
    if model.training:
        return "the model is in training mode (dropout is on)"
    return None


def make_stepper(model: nn.Module) -> Stepper:
    """The lean engine when it supports ``model``, else the model's own forward pass."""
    reason = unsupported_reason(model)
    if reason is None:
        return LeanGPT2(model)
    log.info("sampling with the transformers forward pass: %s", reason)
    return HFStepper(model)


#: A projection: a Conv1D's (weight, bias), or the module that replaced it.
Projection = tuple[torch.Tensor, torch.Tensor] | nn.Module


def _projection(module: nn.Module) -> Projection:
    from transformers.pytorch_utils import Conv1D

    return (module.weight, module.bias) if type(module) is Conv1D else module


class _Block:
    """One GPT-2 block's weights (views of the model's own tensors, or replaced modules) and attention scaling."""

    def __init__(self, block: GPT2Block, activation: str) -> None:
        attn, mlp = block.attn, block.mlp
        self.ln_1 = (block.ln_1.weight, block.ln_1.bias, block.ln_1.eps)
        self.ln_2 = (block.ln_2.weight, block.ln_2.bias, block.ln_2.eps)
        self.qkv = _projection(attn.c_attn)
        self.proj = _projection(attn.c_proj)
        self.fc = _projection(mlp.c_fc)
        self.fc_proj = _projection(mlp.c_proj)
        self.heads, self.head_dim = attn.num_heads, attn.head_dim
        self.scaling = attention_scaling(attn)
        self.act = _ACTIVATIONS.get(activation) or mlp.act


def attention_scaling(attn: GPT2Attention) -> float | None:
    """The factor this transformers version multiplies query . key by, or None if it depends on more than the flags.

    transformers >= 5.2x stores it as ``attn.scaling`` (1/sqrt(head_dim) if
    ``scale_attn_weights``, divided by ``layer_idx + 1`` if
    ``scale_attn_by_inverse_layer_idx``; surgery keeps it exact). Earlier 5.x
    versions apply the flags in eager attention only (SDPA always uses
    1/sqrt(head_dim)), so there the default flags are the only safe case.
    """
    scaling = getattr(attn, "scaling", None)
    if isinstance(scaling, float):
        return scaling
    default = attn.scale_attn_weights and not attn.scale_attn_by_inverse_layer_idx
    return float(attn.head_dim) ** -0.5 if default else None


class LeanGPT2:
    """Decodes a ``GPT2LMHeadModel`` one token per row per call, with a preallocated KV cache."""

    def __init__(self, model: nn.Module) -> None:
        reason = unsupported_reason(model)
        if reason is not None:
            from fuseprune.errors import ModelError

            raise ModelError(f"the lean decoder cannot run this model: {reason}; use make_stepper().")
        gpt2 = cast("GPT2LMHeadModel", model)  # unsupported_reason checked the model and each of its blocks
        t = gpt2.transformer
        self.wte, self.wpe, self.head = t.wte.weight, t.wpe.weight, gpt2.lm_head.weight
        self.ln_f = (t.ln_f.weight, t.ln_f.bias, t.ln_f.eps)
        activation = gpt2.config.activation_function
        self.blocks = [_Block(cast("GPT2Block", block), activation) for block in t.h]
        self.width, self.positions = self.wte.shape[1], self.wpe.shape[0]
        self.inner = gpt2.config.n_inner or 4 * self.width
        self._rows, self._shape = -1, (-1, -1)
        #: Rows computed at each position since the decoder was made (shared rows count once).
        self.rows_computed = [0] * self.positions

    def reset(self, rows: int, length: int) -> None:
        """Start ``rows`` new sequences of at most ``length`` tokens; buffers are reused while the sizes stay."""
        if length > self.positions:
            from fuseprune.errors import ModelError

            raise ModelError(f"rows of {length} tokens are longer than the model's {self.positions} positions.")
        if rows > self._shape[0] or length != self._shape[1]:  # a smaller batch uses the first rows
            heads, dim = (self.blocks[0].heads, self.blocks[0].head_dim) if self.blocks else (0, 0)
            self.cache = torch.empty(len(self.blocks), 2, rows, heads, length, dim)
            self.x = torch.empty(rows, self.width)
            self.qkv = torch.empty(rows, 3 * self.width)
            self.hidden = torch.empty(rows, self.inner)
            self._shape = (rows, length)
        self._rows = rows
        self._cache = self.cache[:, :, :rows]

    @torch.inference_mode()
    def logits(
        self, tokens: torch.Tensor, position: int, low: int, high: int, groups: Groups | None = None
    ) -> torch.Tensor:
        """Feed ``tokens`` at ``position``; return the logits of tokens low..high-1, shape (rows, high - low).

        With ``groups``, the step is computed for one representative row per
        group; its keys, values and logits are copied to the group's rows.
        """
        rows = self._rows if groups is None else len(groups[0])
        self.rows_computed[position] += rows
        x = self.x[:rows]
        torch.index_select(self.wte, 0, tokens if groups is None else tokens[groups[0]], out=x)
        x.add_(self.wpe[position])
        for index, block in enumerate(self.blocks):
            self._attention(block, index, position, rows, groups)
            self._mlp(block, rows)
        h = F.layer_norm(x, (self.width,), *self.ln_f[:2], eps=self.ln_f[2])
        logits = torch.mm(h, self.head[low:high].t())
        return logits if groups is None else logits.index_select(0, groups[1])

    def _attention(self, block: _Block, index: int, position: int, rows: int, groups: Groups | None) -> None:
        x, heads, dim = self.x[:rows], block.heads, block.head_dim
        h = F.layer_norm(x, (self.width,), *block.ln_1[:2], eps=block.ln_1[2])
        if isinstance(block.qkv, tuple):
            qkv = torch.addmm(block.qkv[1], h, block.qkv[0], out=self.qkv[:rows]).view(rows, 3, heads, dim)
        else:
            qkv = block.qkv(h).view(rows, 3, heads, dim)
        keys, values = self._cache[index, 0], self._cache[index, 1]  # (all rows, heads, length, dim)
        new_keys, new_values = qkv[:, 1], qkv[:, 2]
        if groups is not None:  # every row of a group gets its representative's key and value
            new_keys, new_values = new_keys.index_select(0, groups[1]), new_values.index_select(0, groups[1])
        keys[:, :, position].copy_(new_keys)
        values[:, :, position].copy_(new_values)
        keys, values = keys[:, :, : position + 1], values[:, :, : position + 1]
        if groups is not None:
            keys, values = keys.index_select(0, groups[0]), values.index_select(0, groups[0])
        context = F.scaled_dot_product_attention(  # one fused kernel: scores, softmax, weighted values
            qkv[:, 0].unsqueeze(2), keys, values, scale=block.scaling
        ).view(rows, self.width)
        if isinstance(block.proj, tuple):
            x.add_(block.proj[1]).addmm_(context, block.proj[0])
        else:
            x.add_(block.proj(context))

    def _mlp(self, block: _Block, rows: int) -> None:
        x = self.x[:rows]
        h = F.layer_norm(x, (self.width,), *block.ln_2[:2], eps=block.ln_2[2])
        if isinstance(block.fc, tuple):
            hidden = torch.addmm(block.fc[1], h, block.fc[0], out=self.hidden[:rows])
        else:
            hidden = block.fc(h)
        hidden = block.act(hidden)
        if isinstance(block.fc_proj, tuple):
            x.add_(block.fc_proj[1]).addmm_(hidden, block.fc_proj[0])
        else:
            x.add_(block.fc_proj(hidden))


class HFStepper:
    """Decodes with the model's own forward pass and cache (any causal language model)."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self._cache: Any = None

    def reset(self, rows: int, length: int) -> None:
        """Forget the cache."""
        self._cache = None

    @torch.inference_mode()
    def logits(
        self, tokens: torch.Tensor, position: int, low: int, high: int, groups: Groups | None = None
    ) -> torch.Tensor:
        """Feed ``tokens`` at ``position``; return the logits of tokens low..high-1 (``groups`` is not used)."""
        out = self.model(input_ids=tokens.unsqueeze(1), use_cache=True, **cache_kwargs(self.model, self._cache))
        self._cache = output_cache(out)
        return out.logits[:, -1, low:high].float()
