"""Where the layer stack lives in each supported architecture, keyed by ``config.model_type``.

An :class:`ArchitectureSpec` is pure data: the path of the layer ``nn.ModuleList``
inside the base model, the config fields that hold the layer count and the
per-layer lists, where each layer keeps its self-attention module, and which
language-model objective the model's head is trained with. Scoring uses it to
hook the layers; pruning uses the same spec to remove layers for real.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fuseprune.errors import ConfigError
from fuseprune.registry import Registry

#: Objectives a model head can be scored with (see ``fuseprune.scoring.batches``).
OBJECTIVES = ("causal", "masked")


@dataclass(frozen=True)
class ArchitectureSpec:
    """How to find and edit the layer stack of one architecture family.

    Attributes:
        layer_path: Dotted path of the layer ``nn.ModuleList`` inside the base model
            (``"h"`` for GPT-2); the adapter prefixes ``base_model_prefix`` when the
            model is a head model (``"transformer.h"``).
        num_layers_field: Config field holding the number of layers.
        per_layer_fields: Config fields holding one entry per layer (to be sliced
            when layers are removed); a field may be absent or ``None`` on a config.
        layer_boundary_fields: Config fields holding a layer-index boundary (Qwen2's
            ``max_window_layers``: layers at or above it use sliding attention);
            surgery sets each to the number of kept layers below the old boundary,
            so that a list derived from it matches the sliced per-layer lists.
        attention_path: Path of the self-attention module inside one layer whose
            output is ``(attn_output, attn_probs, ...)``; ``None`` if unknown.
        objective: ``"causal"`` (next-token loss) or ``"masked"`` (masked-LM head
            scored with labels = input_ids).
        forward_kwargs: Extra keyword arguments for every scoring forward call.
        layer_returns_tuple: Whether a layer returns a tuple whose first item is the
            hidden state (older transformers) rather than a bare tensor.
    """

    layer_path: str
    num_layers_field: str
    per_layer_fields: tuple[str, ...] = ()
    layer_boundary_fields: tuple[str, ...] = ()
    attention_path: str | None = None
    objective: str = "causal"
    forward_kwargs: dict[str, Any] = field(default_factory=dict)
    layer_returns_tuple: bool = False

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ConfigError(f"`objective` must be one of {', '.join(OBJECTIVES)}; got {self.objective!r}.")


#: ``config.model_type`` -> :class:`ArchitectureSpec`.
ARCHITECTURES: Registry[ArchitectureSpec] = Registry("architecture")

_GPT2 = ArchitectureSpec(
    layer_path="h",
    num_layers_field="n_layer",
    attention_path="attn",
    forward_kwargs={"use_cache": False},
)
_LLAMA_FAMILY = ArchitectureSpec(
    layer_path="layers",
    num_layers_field="num_hidden_layers",
    per_layer_fields=("layer_types",),
    layer_boundary_fields=("max_window_layers",),
    attention_path="self_attn",
    forward_kwargs={"use_cache": False},
)
_BERT_FAMILY = ArchitectureSpec(
    layer_path="encoder.layer",
    num_layers_field="num_hidden_layers",
    attention_path="attention.self",
    objective="masked",
)

ARCHITECTURES.add("gpt2", _GPT2)
for _name in ("llama", "mistral", "qwen2"):
    ARCHITECTURES.add(_name, _LLAMA_FAMILY)
for _name in ("bert", "roberta"):
    ARCHITECTURES.add(_name, _BERT_FAMILY)


def supported_architectures() -> list[str]:
    """Return the ``config.model_type`` values that have a built-in adapter, sorted."""
    return ARCHITECTURES.names()
