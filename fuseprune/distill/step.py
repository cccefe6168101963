"""One distillation step of a causal language model, for hand-written loops.

A batch is a dict with ``input_ids`` (rows, length) and optionally
``attention_mask`` (0 = padding), ``labels`` (as for a transformers causal LM,
``-100`` = ignore; default: the input ids) and ``logit_bias`` (rows or 1,
length - 1, vocab): the additive mask of the next-token distributions, e.g.
``codec.logit_bias(input_ids)`` for a tabular model. Both models run on the
full rows; position ``t`` predicts token ``t + 1``.

Example (hand-written loop)::

    from fuseprune.distill import DistillConfig, DistillationLoss, distill_step

    config = DistillConfig(alpha=0.7, temperature=2.0, hidden_weight=0.1, hidden_loss="cosine")
    loss_fn = DistillationLoss(config, layer_map=kept)       # student layer i <- teacher layer kept[i]
    loss_fn.check_models(student, teacher)                   # one-line error unless a pruned copy
    optimizer = torch.optim.AdamW(student.parameters(), lr=5e-4)
    for ids in torch.randperm(len(train_ids)).split(64):     # train_ids = codec.encode(train_frame)
        batch = {"input_ids": train_ids[ids], "logit_bias": codec.logit_bias(train_ids[ids])}
        parts = distill_step(student, teacher, batch, loss_fn, optimizer)
        log.info("loss %.3f  kl %.3f  ce %.3f  hidden %.3f", *parts.values())
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from fuseprune.distill.layers import LayerOutputs
from fuseprune.distill.losses import IGNORE_INDEX, DistillationLoss, LossParts
from fuseprune.errors import DataError, ModelError
from fuseprune.training.loop import optimizer_step

Batch = Mapping[str, Any]


def model_inputs(batch: Batch) -> dict[str, torch.Tensor]:
    """The ``input_ids`` and ``attention_mask`` (if any) of a batch."""
    if batch.get("input_ids") is None:
        raise DataError("a distillation batch must hold `input_ids`; got keys " + ", ".join(sorted(batch)) + ".")
    inputs = {"input_ids": batch["input_ids"]}
    if batch.get("attention_mask") is not None:
        inputs["attention_mask"] = batch["attention_mask"]
    return inputs


def causal_targets(batch: Batch, ignore_index: int = IGNORE_INDEX) -> torch.Tensor:
    """Next-token targets (rows, length - 1): shifted labels (or ids), ``ignore_index`` at padding."""
    labels = batch.get("labels")
    labels = batch["input_ids"] if labels is None else labels
    targets = labels[:, 1:].clone()
    mask = batch.get("attention_mask")
    if mask is not None:
        targets[mask[:, 1:] == 0] = ignore_index
    return targets


def output_logits(output: Any) -> torch.Tensor:
    """The logits of a model output (``.logits``, first item of a tuple, or a bare tensor)."""
    logits = output if isinstance(output, torch.Tensor) else getattr(output, "logits", None)
    if logits is None and isinstance(output, tuple | list) and output:
        logits = output[0]
    if not isinstance(logits, torch.Tensor):
        raise ModelError(f"the model output has no logits; got {type(output).__name__}.")
    return logits


@torch.no_grad()
def teacher_outputs(
    teacher: nn.Module, inputs: Mapping[str, torch.Tensor], hidden: bool = False
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Run the teacher in eval mode without gradients; return its logits and (if asked) layer outputs.

    Inputs go to the teacher's device and results come back to the inputs' device;
    the teacher's weights are never touched. ``no_grad`` rather than
    ``inference_mode``: the teacher's outputs enter the student's loss graph,
    which must be able to save them for the backward pass.
    """
    if teacher.training:
        teacher.eval()
    param = next(teacher.parameters(), None)
    device = param.device if param is not None else inputs["input_ids"].device
    back = inputs["input_ids"].device
    with LayerOutputs(teacher, enabled=hidden) as layers:
        logits = output_logits(teacher(**{k: v.to(device) for k, v in inputs.items()}))
    return logits.to(back), [h.to(back) for h in layers.outputs]


def distillation_parts(
    student: nn.Module, teacher: nn.Module, batch: Batch, loss_fn: DistillationLoss
) -> tuple[LossParts, Any]:
    """Run student (with gradients) and teacher on ``batch``; return the loss parts and the student output."""
    inputs = model_inputs(batch)
    with LayerOutputs(student, enabled=loss_fn.uses_hidden) as layers:
        output = student(**inputs)
    teacher_logits, teacher_hidden = teacher_outputs(teacher, inputs, loss_fn.uses_hidden)
    parts = loss_fn(
        output_logits(output)[:, :-1],
        teacher_logits[:, :-1],
        causal_targets(batch, loss_fn.ignore_index),
        logit_bias=batch.get("logit_bias"),
        student_hidden=layers.outputs,
        teacher_hidden=teacher_hidden,
    )
    return parts, output


def distill_step(
    student: nn.Module,
    teacher: nn.Module,
    batch: Batch,
    loss_fn: DistillationLoss,
    optimizer: torch.optim.Optimizer,
    *,
    max_grad_norm: float | None = None,
) -> dict[str, float]:
    """One optimisation step of ``student`` towards ``teacher`` on ``batch``.

    Puts the student in train mode, zeroes the gradients, back-propagates the
    distillation loss, optionally clips the gradient norm and steps the optimizer.
    The teacher runs in eval mode under ``torch.no_grad`` and is never updated.

    Returns:
        ``{"total", "kl", "ce", "hidden"}`` of this batch, before the step.
    """
    student.train()
    parts, _ = distillation_parts(student, teacher, batch, loss_fn)
    optimizer_step(student, parts.total, optimizer, max_grad_norm)
    return parts.to_floats()
