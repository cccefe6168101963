"""Layer surgery: delete layers for real, so the smaller model is an ordinary model of that depth.

:func:`remove_layers` updates the modules and the config together, in one place:

1. the layers are deleted from their ``nn.ModuleList`` (the list object is kept);
2. every kept layer is renumbered: each submodule's ``layer_idx`` (self and
   cross attention; the KV cache is indexed by it) becomes its new position,
   and GPT-2's ``scale_attn_by_inverse_layer_idx`` scaling is compensated
   exactly (see :mod:`fuseprune.pruning.renumber`);
3. the config's layer count (``n_layer`` / ``num_hidden_layers``) is set, its
   per-layer lists (``layer_types``) are sliced and layer-index boundaries
   (Qwen2 ``max_window_layers``) remapped, so ``from_pretrained`` rebuilds the
   same model;
4. weights tied before (``lm_head`` <-> embeddings) are checked to be still tied.

:func:`apply_plan` does the same after checking the plan's fingerprint.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from torch import nn

from fuseprune.errors import ConfigError, ModelError
from fuseprune.models.adapters import LayerAdapter, get_adapter
from fuseprune.models.architectures import ARCHITECTURES
from fuseprune.outputs import TRANSFORMERS_MODEL, output_folder
from fuseprune.pruning.fingerprint import fingerprint_model
from fuseprune.pruning.plan import PrunePlan
from fuseprune.pruning.renumber import renumber_layer

logger = logging.getLogger(__name__)

#: File name of the plan written next to a pruned model by :func:`save_pruned`.
PLAN_FILE = "prune_plan.json"


def apply_plan(model: nn.Module, plan: PrunePlan, *, inplace: bool = False, layers: str | None = None) -> nn.Module:
    """Return ``model`` with the plan's layers removed (a deep copy unless ``inplace``).

    Args:
        model: The model the plan was made for.
        plan: The plan to apply.
        inplace: Change ``model`` itself instead of a copy.
        layers: Dotted path of the layer list; defaults to the plan's for unsupported architectures.

    Raises:
        ModelError: The model's fingerprint differs from the plan's (the message
            names each differing field), or the model cannot be pruned exactly.
    """
    if not isinstance(plan, PrunePlan):
        raise ConfigError(f"`plan` must be a PrunePlan; got {type(plan).__name__}.")
    if layers is None and getattr(getattr(model, "config", None), "model_type", None) not in ARCHITECTURES:
        layers = plan.model.layer_path
    found = fingerprint_model(model, layers)
    differences = plan.model.differences(found)
    if differences:
        raise ModelError(f"the plan was made for another model: {'; '.join(differences)}.")
    logger.info("applying a %s plan: removing layers %s of %d", plan.strategy, list(plan.remove), found.num_layers)
    return remove_layers(model, plan.remove, inplace=inplace, layers=layers)


def remove_layers(
    model: nn.Module, indices: Iterable[int], *, inplace: bool = False, layers: str | None = None
) -> nn.Module:
    """Delete the layers at ``indices`` and fix everything that depends on layer positions.

    No fingerprint check: this is the primitive under :func:`apply_plan` (and the
    iterative strategy). The indices are validated before anything is changed.

    Args:
        model: A supported transformers model or any module whose layer list is named by ``layers``.
        indices: Layer positions to delete (0-based, unique, at least one layer must stay).
        inplace: Change ``model`` itself instead of a deep copy.
        layers: Dotted path of the layer ``nn.ModuleList``, for unsupported architectures.

    Returns:
        The pruned model (``model`` itself when ``inplace``).
    """
    adapter = get_adapter(model, layers)
    removed = _checked_indices(indices, adapter.num_layers)
    _refuse_heterogeneous(model)
    target = model if inplace else copy.deepcopy(model)
    adapter = get_adapter(target, adapter.layer_path)
    tied = _tied_groups(target, adapter.layer_path)
    kept = [i for i in range(adapter.num_layers) if i not in removed]
    for new, old in enumerate(kept):
        renumber_layer(adapter.layers[old], old, new)
    _update_config(adapter, kept)
    for index in sorted(removed, reverse=True):
        del adapter.layers[index]
    _refresh_model_flags(target)
    if _tied_groups(target, adapter.layer_path) != tied:
        raise ModelError("tied weights came untied during surgery; this model cannot be pruned safely.")
    logger.info("removed layers %s: %d layers left", sorted(removed), len(adapter.layers))
    return target


def _checked_indices(indices: Iterable[int], num_layers: int) -> set[int]:
    values = list(indices)
    bad = [i for i in values if isinstance(i, bool) or not isinstance(i, int)]
    if bad:
        raise ConfigError(f"layer indices must be integers; got {bad[:5]}.")
    if len(set(values)) != len(values):
        raise ConfigError(f"layer indices must be unique; got {sorted(values)}.")
    outside = sorted(i for i in values if not 0 <= i < num_layers)
    if outside:
        raise ConfigError(f"layer indices must be between 0 and {num_layers - 1}; got {outside}.")
    if len(values) >= num_layers:
        raise ConfigError(f"cannot remove all {num_layers} layers; keep at least one.")
    return set(values)


def _refuse_heterogeneous(model: nn.Module) -> None:
    config = getattr(model, "config", None)
    if getattr(config, "is_heterogeneous", False):
        raise ModelError("models with a heterogeneous `per_layer_config` are not supported by layer surgery yet.")


def _update_config(adapter: LayerAdapter, kept: list[int]) -> None:
    """Set the layer count, slice per-layer lists and remap layer-index boundaries."""
    config = getattr(adapter.model, "config", None)
    if config is None:
        return
    for name in adapter.per_layer_fields:
        values = list(getattr(config, name))
        if len(values) != adapter.num_layers:
            raise ModelError(f"config.{name} has {len(values)} entries but the model has {adapter.num_layers} layers.")
        setattr(config, name, [values[i] for i in kept])
    for name in adapter.layer_boundary_fields:
        boundary = getattr(config, name)
        setattr(config, name, sum(1 for i in kept if i < boundary))
    if adapter.num_layers_field:
        setattr(config, adapter.num_layers_field, len(kept))


def _refresh_model_flags(model: nn.Module) -> None:
    """Recompute flags a base model derives from the per-layer lists at construction (Qwen2)."""
    layer_types = getattr(getattr(model, "config", None), "layer_types", None)
    if layer_types is None:
        return
    for module in model.modules():
        if isinstance(getattr(module, "has_sliding_layers", None), bool):
            # nn.Module.__setattr__ is typed for tensors and modules only; a bool attribute is fine at runtime
            module.has_sliding_layers = "sliding_attention" in layer_types  # type: ignore[assignment]


def _tied_groups(model: nn.Module, layer_path: str) -> set[frozenset[str]]:
    """Groups of parameter names (outside the layer stack) that share one tensor."""
    groups: dict[int, set[str]] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        if not name.startswith(f"{layer_path}."):
            groups.setdefault(id(param), set()).add(name)
    return {frozenset(names) for names in groups.values() if len(names) > 1}


def save_pruned(model: nn.Module, folder: str | Path, plan: PrunePlan | None = None, overwrite: bool = False) -> Path:
    """Write a pruned transformers model (and its plan) to ``folder`` atomically.

    The folder appears complete or not at all: ``save_pretrained`` (safetensors)
    writes into a hidden temporary folder that is renamed at the end. With a
    ``plan``, it is saved as ``prune_plan.json`` beside the weights. An existing
    folder is replaced only if fuseprune wrote it as such, or with ``overwrite``.
    """
    if not hasattr(model, "save_pretrained"):
        raise ModelError(f"only transformers models can be saved as a model folder; got {type(model).__name__}.")
    transformers_model: Any = model  # nn.Module does not declare save_pretrained
    folder = Path(folder)
    with output_folder(folder, TRANSFORMERS_MODEL, overwrite) as tmp:
        transformers_model.save_pretrained(tmp, safe_serialization=True)
        if plan is not None:
            plan.save(tmp / PLAN_FILE)
    return folder
