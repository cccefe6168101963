"""REaLTabFormer's GPT-2 weights <-> a plain transformers ``GPT2LMHeadModel`` with fuseprune's token order.

REaLTabFormer saves ``GPT2LMHeadModel.state_dict()`` of transformers 4; the
parameter names are the same in transformers 5. Only the vocabulary rows move:
fuseprune id ``i`` is REaLTabFormer id ``order[i]`` (see
:class:`~fuseprune.tabular.realtabformer.codec.RtfCodec`), so the embedding
(and an untied output layer) is reindexed, which permutes the logits and
changes nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from fuseprune.errors import ModelError
from fuseprune.tabular.codec import BOS_ID, EOS_ID, PAD_ID

ARCHITECTURE = ("n_positions", "n_embd", "n_layer", "n_head", "n_inner", "activation_function", "resid_pdrop",
                "embd_pdrop", "attn_pdrop", "layer_norm_epsilon", "initializer_range", "scale_attn_weights",
                "scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "tie_word_embeddings")
BUFFERS = (".attn.bias", ".attn.masked_bias")  # causal-mask buffers older transformers versions saved
EMBEDDING, HEAD = "transformer.wte.weight", "lm_head.weight"


def gpt2_config(tabular_config: Mapping[str, Any], vocab_size: int, sequence_length: int) -> GPT2Config:
    """The GPT-2 of a REaLTabFormer ``tabular_config``, with fuseprune's special token ids."""
    settings = {key: tabular_config[key] for key in ARCHITECTURE if key in tabular_config}
    sizes = {key: settings.get(key, 1) for key in ("n_positions", "n_embd", "n_layer", "n_head")}
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in sizes.values()) \
            or sizes["n_embd"] % sizes["n_head"]:
        raise ModelError(f"tabular_config is not a GPT-2 config a model can have ({sizes}: positive whole numbers, "
                         "n_embd divisible by n_head).")
    if tabular_config.get("vocab_size") not in (None, vocab_size):
        raise ModelError(f"tabular_config says vocab_size {tabular_config['vocab_size']} but the vocabulary has "
                         f"{vocab_size} tokens; the config does not match its vocabulary.")
    try:
        config = GPT2Config(vocab_size=vocab_size, bos_token_id=BOS_ID, eos_token_id=EOS_ID, pad_token_id=PAD_ID,
                            **settings)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"tabular_config is not a GPT-2 config ({exc}).") from None
    if config.n_positions < sequence_length:
        raise ModelError(f"the GPT-2 has {config.n_positions} positions but a row takes {sequence_length} tokens.")
    return config


def import_weights(config: GPT2Config, state: Mapping[str, torch.Tensor], order: np.ndarray) -> GPT2LMHeadModel:
    """Build the model from REaLTabFormer's state dict, its vocabulary rows reordered by ``order``."""
    state = {k: v for k, v in state.items() if not k.endswith(BUFFERS)}
    if EMBEDDING not in state:
        raise ModelError(f"rtf_model.pt has no {EMBEDDING}; it is not the state dict of a GPT-2 language model.")
    rows = state[EMBEDDING].shape[0]
    if rows != len(order):
        raise ModelError(f"rtf_config.json's vocabulary has {len(order)} tokens but rtf_model.pt's embedding has "
                         f"{rows} rows; the config and the weights come from different models.")
    layers = {k.split(".")[2] for k in state if k.startswith("transformer.h.")}
    if len(layers) != config.n_layer:
        raise ModelError(f"tabular_config says n_layer {config.n_layer} but rtf_model.pt holds {len(layers)} layers; "
                         "the config and the weights come from different models.")
    index = torch.as_tensor(order, dtype=torch.long)
    state[EMBEDDING] = state[EMBEDDING][index]
    if HEAD in state:
        state[HEAD] = state[EMBEDDING] if config.tie_word_embeddings else state[HEAD][index]
    try:
        model = GPT2LMHeadModel(config)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ModelError(f"tabular_config does not build a GPT-2 ({type(exc).__name__}: {exc}).") from None
    _load(model, state)
    return model.eval()


def export_weights(model: torch.nn.Module, order: np.ndarray, vocab_size: int) -> dict[str, torch.Tensor]:
    """REaLTabFormer's state dict of ``model``: fuseprune id ``i`` goes to REaLTabFormer row ``order[i]``.

    REaLTabFormer ids no fuseprune id maps to (special tokens its sampler never
    writes) get zero rows.
    """
    state = {k: v.detach().clone() for k, v in model.state_dict().items() if not k.endswith(BUFFERS)}
    index = torch.as_tensor(order, dtype=torch.long)

    def scatter(rows: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(vocab_size, rows.shape[1], dtype=rows.dtype)
        out[index] = rows[: len(index)]
        return out

    tied = getattr(model.config, "tie_word_embeddings", True)
    state[EMBEDDING] = scatter(state[EMBEDDING])
    if HEAD in state:
        state[HEAD] = state[EMBEDDING] if tied else scatter(state[HEAD])
    return state


def _load(model: GPT2LMHeadModel, state: Mapping[str, torch.Tensor]) -> None:
    try:
        result = model.load_state_dict(dict(state), strict=False)
    except RuntimeError as exc:
        detail = next((line.strip() for line in str(exc).splitlines() if "size mismatch" in line), str(exc)[:200])
        raise ModelError(f"rtf_model.pt does not fit rtf_config.json's GPT-2 ({detail}).") from None
    missing = [k for k in result.missing_keys if not (k == HEAD and model.config.tie_word_embeddings)]
    if missing or result.unexpected_keys:
        raise ModelError(f"rtf_model.pt does not fit rtf_config.json's GPT-2: missing {missing[:3] or 'none'}, "
                         f"unexpected {result.unexpected_keys[:3] or 'none'}.")
    if model.config.tie_word_embeddings:
        model.tie_weights()
