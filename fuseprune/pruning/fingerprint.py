"""Model fingerprints: what a prune plan was made for, so it is never applied to another model.

A fingerprint holds the architecture, the layer path and count, the number of
parameters, a sha256 of the canonical config JSON and a sha256 of the weights.

- Config hash: ``config.to_dict()`` without volatile keys (versions, paths,
  ``architectures`` and ``dtype`` that ``save_pretrained`` fills in, runtime
  switches such as ``use_cache``, and every private ``_`` key), dumped with
  sorted keys and no whitespace. ``None`` for a model without a config.
- Weights hash: every ``state_dict`` tensor in sorted name order: its name,
  dtype, shape and raw bytes. Tensors sharing storage (tied weights) are hashed
  once, under the first of their names, so a model hashes the same before and
  after ``save_pretrained`` -> ``from_pretrained``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from fuseprune.models.adapters import get_adapter

#: Config keys left out of the config hash (they change without changing the model).
VOLATILE_CONFIG_KEYS = frozenset(
    {
        "transformers_version",
        "name_or_path",
        "architectures",
        "dtype",
        "torch_dtype",
        "attn_implementation",
        "use_cache",
        "output_attentions",
        "output_hidden_states",
        "return_dict",
    }
)


@dataclass(frozen=True)
class ModelFingerprint:
    """Identity of the model a plan was made for.

    Attributes:
        model_type: ``config.model_type`` (``None`` for a plain module).
        layer_path: Dotted path of the layer list (``"transformer.h"``).
        num_layers: Number of layers in that list.
        num_parameters: Distinct parameters (tied weights counted once).
        config_sha256: sha256 of the canonical config JSON, ``None`` without a config.
        weights_sha256: sha256 of the weights (see the module docstring).
    """

    model_type: str | None
    layer_path: str
    num_layers: int
    num_parameters: int
    config_sha256: str | None
    weights_sha256: str

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form."""
        return asdict(self)

    def differences(self, other: ModelFingerprint) -> list[str]:
        """Return what differs between this (plan) fingerprint and ``other`` (model), in readable form."""
        found = []
        if self.model_type != other.model_type:
            found.append(f"architecture differs: plan {self.model_type}, model {other.model_type}")
        if self.num_layers != other.num_layers:
            found.append(f"layer count differs: plan {self.num_layers}, model {other.num_layers}")
        if self.config_sha256 != other.config_sha256:
            found.append("config hash differs")
        if self.weights_sha256 != other.weights_sha256:
            found.append("weights hash differs")
        return found


def fingerprint_model(model: nn.Module, layers: str | None = None) -> ModelFingerprint:
    """Return the :class:`ModelFingerprint` of ``model``.

    Args:
        model: A supported transformers model or any module whose layer list is named by ``layers``.
        layers: Dotted path of the layer ``nn.ModuleList``, for unsupported architectures.
    """
    adapter = get_adapter(model, layers)
    config = getattr(model, "config", None)
    return ModelFingerprint(
        model_type=adapter.model_type,
        layer_path=adapter.layer_path,
        num_layers=adapter.num_layers,
        num_parameters=sum(p.numel() for p in model.parameters()),
        config_sha256=config_sha256(config) if hasattr(config, "to_dict") else None,
        weights_sha256=weights_sha256(model.state_dict()),
    )


def canonical_config(config: Any) -> dict[str, Any]:
    """Return ``config.to_dict()`` without the volatile and private keys (see the module docstring)."""
    return _strip(config.to_dict())


def _strip(payload: Mapping[str, Any]) -> dict[str, Any]:
    kept = {}
    for key, value in payload.items():
        key = str(key)
        if key in VOLATILE_CONFIG_KEYS or key.startswith("_"):
            continue
        kept[key] = _strip(value) if isinstance(value, Mapping) and _is_sub_config(value) else value
    return kept


def _is_sub_config(value: Mapping[str, Any]) -> bool:
    return "model_type" in value  # nested configs (text_config, ...) carry their own volatile keys


def config_sha256(config: Any) -> str:
    """Return the sha256 (hex) of the canonical JSON of ``config``."""
    text = json.dumps(canonical_config(config), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def weights_sha256(state: Mapping[str, torch.Tensor]) -> str:
    """Return the sha256 (hex) of the tensors of ``state`` in sorted name order, shared storage once."""
    digest = hashlib.sha256()
    seen: set[tuple[Any, ...]] = set()
    for name in sorted(state):
        tensor = state[name]
        identity = _storage_identity(tensor)
        if identity in seen:
            continue
        seen.add(identity)
        header = f"{name}|{str(tensor.dtype).removeprefix('torch.')}|{tuple(tensor.shape)}\n"
        digest.update(header.encode("utf-8"))
        digest.update(_tensor_bytes(tensor))
    return digest.hexdigest()


def _storage_identity(tensor: torch.Tensor) -> tuple[Any, ...]:
    pointer = tensor.untyped_storage().data_ptr() if tensor.numel() else id(tensor)
    return (tensor.device.type, pointer, tensor.storage_offset(), tuple(tensor.shape), tuple(tensor.stride()),
            tensor.dtype)


def _tensor_bytes(tensor: torch.Tensor) -> bytes:
    flat = tensor.detach().to("cpu").contiguous().reshape(-1)
    if flat.numel() == 0:
        return b""
    return flat.view(torch.uint8).numpy().tobytes()
