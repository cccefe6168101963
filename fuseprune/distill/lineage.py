"""Is this student a pruned copy of this teacher? Checked from what the student's ``fuseprune.json`` records.

:func:`fuseprune.tabular.prune_tabular` records in ``info["pruning"]`` the
fingerprint of the model it pruned (``teacher``: hashes of config and
weights) and which of its layers were kept; a model pruned again keeps the
earlier record under ``previous``. Distillation needs a student smaller than
its teacher and, when the student records its pruning, the very teacher it
was pruned from (or one further up the chain).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from fuseprune.errors import ModelError
from fuseprune.models.adapters import get_adapter
from fuseprune.pruning.fingerprint import fingerprint_model


def check_smaller(student: nn.Module, teacher: nn.Module) -> None:
    """Raise ``ModelError`` unless ``student`` is a compressed form of ``teacher``.

    It must have no more layers and no more parameters, and fewer layers,
    fewer parameters (e.g. factorised projections) or fewer non-zero weights
    (sparsity): a student exactly as large as its teacher is the teacher itself
    or a copy, which distillation cannot make smaller.
    """
    layers = get_adapter(student).num_layers, get_adapter(teacher).num_layers
    if layers[0] > layers[1]:
        raise ModelError(f"the student has {layers[0]} layers and the teacher {layers[1]}; distil a student pruned "
                         "or compressed from the teacher, not a larger model.")
    sizes = [sum(p.numel() for p in model.parameters()) for model in (student, teacher)]
    if sizes[0] > sizes[1]:
        raise ModelError(f"the student has more parameters ({sizes[0]:,}) than the teacher ({sizes[1]:,}); "
                         "distil a student pruned from this teacher.")
    if layers[0] == layers[1] and sizes[0] == sizes[1] and _nonzero(student) >= _nonzero(teacher):
        raise ModelError(f"the student has {layers[0]} layers and the teacher {layers[1]}, and as many parameters "
                         "and non-zero weights; distil a student pruned or compressed from the teacher, not the "
                         "teacher itself.")


def _nonzero(model: nn.Module) -> int:
    return sum(int(p.count_nonzero()) for p in model.parameters())


def teacher_layer_map(info: dict[str, Any], teacher: nn.Module) -> list[int] | None:
    """The teacher layer of every student layer, from the student's pruning record; None if it records none.

    Args:
        info: The student's ``info`` (its ``fuseprune.json``).
        teacher: The teacher it is to be distilled from.

    Raises:
        ModelError: The student records pruning from another model, or a damaged record.
    """
    record = info.get("pruning")
    if record is None:
        return None
    found = fingerprint_model(teacher)
    layer_map: list[int] | None = None
    recorded: dict[str, Any] = {}
    while record is not None:
        kept, recorded = _parse(record)
        if layer_map is not None and any(i >= len(kept) for i in layer_map):
            raise ModelError("the student's fuseprune.json holds `pruning` records whose kept layers do not chain; "
                             "prune the teacher again.")
        layer_map = kept if layer_map is None else [kept[i] for i in layer_map]
        if (recorded.get("weights_sha256"), recorded.get("config_sha256")) == (found.weights_sha256,
                                                                               found.config_sha256):
            return layer_map
        record = record.get("previous")
    first = _parse(info["pruning"])[1]
    raise ModelError(
        f"the student was pruned from another model ({first.get('num_layers')} layers, weights "
        f"{str(first.get('weights_sha256'))[:12]}), not from this teacher ({found.num_layers} layers, weights "
        f"{found.weights_sha256[:12]}); distil it from the teacher it was pruned from."
    )


def _parse(record: Any) -> tuple[list[int], dict[str, Any]]:
    """(kept layers, teacher fingerprint) of one pruning record, checked."""
    kept = record.get("kept_layers") if isinstance(record, dict) else None
    teacher = record.get("teacher") if isinstance(record, dict) else None
    if not isinstance(kept, list) or not isinstance(teacher, dict) or not all(
        isinstance(k, int) and not isinstance(k, bool) and k >= 0 for k in kept
    ):
        raise ModelError("the student's fuseprune.json holds a damaged `pruning` record (it needs `kept_layers` "
                         "and `teacher`); prune the teacher again.")
    return kept, teacher
