"""Saving a compressed GPT-2 without pickle: safetensors plus a JSON manifest of what was replaced and how.

``compression.json`` (written next to ``config.json`` and ``model.safetensors``)::

    {"format": "fuseprune-compressed-model", "version": 1,
     "plan": {... the CompressionPlan ...},
     "modules": {"transformer.h.0.mlp.c_fc": {"kind": "lowrank", "in_features": 16, ...},
                 "transformer.h.0.mlp.c_fc.first": {"kind": "int8", ...}, ...},
     "tensors": {"transformer.wte.weight": [20, 16], ...}}

Reading builds the plain GPT-2 of ``config.json``, replaces the listed modules
(parents before children) with empty ones of the recorded shape, and checks that
the weights file holds exactly the tensors those modules have, shapes included,
before loading them. An int8 layer is stored as its int8 weight, scale and zero
point (``NAME.weight_int8``, ``NAME.weight_scale``, ``NAME.weight_zero_point``)
and its float bias. A model with no replaced module (depth, sparsity) is an
ordinary GPT-2 and is saved the ordinary way (no manifest).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn
from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear
from transformers import GPT2Config, GPT2LMHeadModel

from fuseprune.compress.base import set_module
from fuseprune.compress.modules import LowRankLinear, TTLinear, TuckerLinear, build_module
from fuseprune.compress.plan import CompressionPlan
from fuseprune.compress.quant import quiet_quantisation
from fuseprune.errors import ModelError

MANIFEST = "compression.json"
WEIGHTS = "model.safetensors"
FORMAT = "fuseprune-compressed-model"
VERSION = 1
_INT8 = ("weight_int8", "weight_scale", "weight_zero_point")


def module_specs(model: nn.Module) -> dict[str, dict[str, Any]]:
    """Name -> spec of every replaced module of ``model`` (empty for a plain GPT-2)."""
    specs: dict[str, dict[str, Any]] = {}
    for name, module in model.named_modules():
        if isinstance(module, LowRankLinear | TuckerLinear | TTLinear):
            specs[name] = module.spec()
        elif isinstance(module, DynamicLinear):
            specs[name] = {"kind": "int8", "in_features": module.in_features,
                           "out_features": module.out_features, "bias": module.bias() is not None}
    return specs


def is_compressed(model: nn.Module) -> bool:
    """Whether ``model`` has a replaced module (and so needs the manifest to be loaded)."""
    return bool(module_specs(model))


def compressed_tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    """The tensors that describe ``model``: its float state, each int8 layer as int8 + scale + zero point."""
    quantised = {name: m for name, m in model.named_modules() if isinstance(m, DynamicLinear)}
    tied = set(getattr(model, "all_tied_weights_keys", None) or {})
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()
               if k not in tied and not any(k.startswith(f"{q}.") for q in quantised)}
    for name, module in quantised.items():
        weight, bias = module.weight(), module.bias()
        tensors[f"{name}.weight_int8"] = weight.int_repr().contiguous()
        tensors[f"{name}.weight_scale"] = torch.tensor([weight.q_scale()], dtype=torch.float64)
        tensors[f"{name}.weight_zero_point"] = torch.tensor([weight.q_zero_point()], dtype=torch.int64)
        if bias is not None:
            tensors[f"{name}.bias"] = bias.detach().contiguous()
    return tensors


def write_compressed(model: GPT2LMHeadModel, folder: str | Path, plan: CompressionPlan | None) -> None:
    """Write ``config.json``, ``model.safetensors`` and the manifest of a compressed model into ``folder``."""
    folder = Path(folder)
    model.config.save_pretrained(folder)
    tensors = compressed_tensors(model)
    save_file(tensors, str(folder / WEIGHTS), metadata={"format": "pt"})
    manifest = {"format": FORMAT, "version": VERSION, "plan": plan.to_dict() if plan else None,
                "modules": module_specs(model), "tensors": {k: list(v.shape) for k, v in tensors.items()}}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def read_manifest(folder: Path) -> dict[str, Any]:
    """The checked manifest of ``folder`` (one-line ``ModelError`` if it is damaged)."""
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"compression manifest {str(path)!r} cannot be read ({exc}); the folder is damaged.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ModelError(f"{str(path)!r} is not a version-{VERSION} compression manifest; the folder is damaged.")
    if not isinstance(manifest.get("modules"), dict) or not isinstance(manifest.get("tensors"), dict):
        raise ModelError(f"compression manifest {str(path)!r} needs `modules` and `tensors` objects.")
    return manifest


def read_compressed(folder: str | Path, config: GPT2Config) -> GPT2LMHeadModel:
    """Rebuild the compressed model of ``folder`` from its manifest and load its weights (in eval mode).

    Raises:
        ModelError: The manifest is damaged, or the weights do not match it (one line, naming the first tensors).
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    model = GPT2LMHeadModel(config)
    for name in sorted(manifest["modules"], key=lambda n: n.count(".")):  # parents first
        set_module(model, name, _empty_module(manifest["modules"][name], f"{MANIFEST} module {name!r}"))
    expected = {k: list(v.shape) for k, v in compressed_tensors(model).items()}
    found = _file_shapes(folder / WEIGHTS)
    if found != expected or manifest["tensors"] != expected:
        raise ModelError(f"the weights in {str(folder)!r} do not match its {MANIFEST}: {_difference(expected, found)}; "
                         "the folder is damaged: restore it or compress again.")
    with safe_open(str(folder / WEIGHTS), framework="pt") as handle:
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    _load(model, tensors)
    return model.eval()


def _empty_module(spec: Any, where: str) -> nn.Module:
    if isinstance(spec, dict) and spec.get("kind") == "int8":
        try:
            with quiet_quantisation():
                return DynamicLinear(int(spec["in_features"]), int(spec["out_features"]), bias_=bool(spec["bias"]),
                                     dtype=torch.qint8)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise ModelError(f"{where}: int8 module {spec} cannot be built ({exc}).") from None
    return build_module(spec, where)


def _load(model: GPT2LMHeadModel, tensors: dict[str, torch.Tensor]) -> None:
    quantised = {name: m for name, m in model.named_modules() if isinstance(m, DynamicLinear)}
    state = {k: v for k, v in tensors.items() if not any(k.startswith(f"{q}.") for q in quantised)}
    targets = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    with torch.no_grad():
        for key, tensor in state.items():
            targets[key].copy_(tensor)
    with quiet_quantisation():
        for name, module in quantised.items():
            weight = torch._make_per_tensor_quantized_tensor(
                tensors[f"{name}.weight_int8"], float(tensors[f"{name}.weight_scale"][0]),
                int(tensors[f"{name}.weight_zero_point"][0]))
            module.set_weight_bias(weight, tensors.get(f"{name}.bias"))
    model.tie_weights()
    for name, tensor in state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ModelError(f"the weights of the compressed model hold NaN or infinite values ({name}).")


def _file_shapes(path: Path) -> dict[str, list[int]]:
    try:
        with safe_open(str(path), framework="pt") as handle:
            return {key: list(handle.get_slice(key).get_shape()) for key in handle.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(f"{str(path)!r} is not a readable safetensors file ({exc}); the folder is damaged.") from None


def _difference(expected: dict[str, list[int]], found: dict[str, list[int]]) -> str:
    missing = sorted(set(expected) - set(found))[:3]
    unexpected = sorted(set(found) - set(expected))[:3]
    shapes = sorted(k for k in set(expected) & set(found) if expected[k] != found[k])[:3]
    parts = [f"{label} {', '.join(keys)}" for label, keys in
             (("missing tensors", missing), ("unexpected tensors", unexpected), ("tensors of another shape", shapes))
             if keys]
    return "; ".join(parts) or "the manifest's tensor list differs from the file"
