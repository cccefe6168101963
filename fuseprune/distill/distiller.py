"""Distilling a pruned causal language model from its teacher on token rows, with the engine's training loop.

The student is trained on a copy (the one passed in is left as it is); the
teacher runs in eval mode without gradients and is never modified. Every step
is :func:`~fuseprune.distill.step.distill_step` (gradients clipped at 1.0);
the loop (:class:`~fuseprune.training.TrainingLoop`) reseeds shuffling and
dropout every epoch (:class:`~fuseprune.training.EpochShuffle`) inside a fork
of torch's global generator, so the caller's generator is left alone and a run
resumed from its checkpoint ends with the same weights as an uninterrupted one.

Example (any causal LM whose rows are token ids of one length)::

    from fuseprune.distill import DistillConfig, DistillationLoss, distill_model

    loss_fn = DistillationLoss(DistillConfig(alpha=0.7, max_epochs=30), layer_map=[0, 2, 5])
    student, history = distill_model(student, teacher, fit_ids, val_ids, loss_fn, nll=my_row_nll)

A tabular model is distilled with :func:`fuseprune.tabular.distill_tabular`,
which passes the codec's masks and NLL.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

import torch
from torch import nn

from fuseprune.distill.lineage import check_smaller
from fuseprune.distill.losses import DistillationLoss
from fuseprune.distill.step import distill_step
from fuseprune.progress import Progress
from fuseprune.training import Checkpoints, EpochShuffle, LoopHistory, TrainingLoop

ModelT = TypeVar("ModelT", bound=nn.Module)

log = logging.getLogger(__name__)
PARTS = ("total", "kl", "ce", "hidden")
#: ``nll(model, ids) -> float``: a model's mean validation loss on token rows ``ids`` (lower is better).
RowsLoss = Callable[[nn.Module, torch.Tensor], float]
#: ``batch_of(ids) -> batch``: the batch of a step (``input_ids``, optionally ``logit_bias``, ...).
BatchOf = Callable[[torch.Tensor], dict[str, torch.Tensor]]


@dataclass
class DistillHistory(LoopHistory):
    """What happened during distillation, one entry per epoch (JSON-ready).

    Attributes:
        val_loss: The student's validation loss (for tabular models: NLL per row, nats).
        best_epoch: Epoch of the returned weights (lowest ``val_loss``).
        seconds: Wall-clock time over all sessions of the run.
        stopped: ``early_stopping``, ``max_epochs``, ``time_budget`` or ``running``.
        total, kl, ce, hidden: Training means of the loss and its parts.
        teacher_val_loss: The teacher's loss on the same validation rows.
        resumed_at: Finished epochs found in the checkpoint at each resume.
    """

    kept: ClassVar[tuple[str, ...]] = PARTS
    shown: ClassVar[tuple[str, ...]] = ("kl",)

    total: list[float] = field(default_factory=list)
    kl: list[float] = field(default_factory=list)
    ce: list[float] = field(default_factory=list)
    hidden: list[float] = field(default_factory=list)
    teacher_val_loss: float | None = None
    resumed_at: list[int] = field(default_factory=list)

    def resumed(self, epochs_done: int) -> None:
        """Record a resume after ``epochs_done`` epochs."""
        self.resumed_at.append(epochs_done)


def check_student(student: nn.Module, teacher: nn.Module, loss_fn: DistillationLoss) -> None:
    """Raise ``ModelError`` unless ``student`` is smaller than ``teacher`` and fits ``loss_fn``'s layer map."""
    loss_fn.check_models(student, teacher)
    check_smaller(student, teacher)


def distill_model(
    student: ModelT,
    teacher: nn.Module,
    fit_ids: torch.Tensor,
    val_ids: torch.Tensor,
    loss_fn: DistillationLoss,
    *,
    nll: RowsLoss,
    batch_of: BatchOf | None = None,
    checkpoints: Checkpoints | None = None,
    progress: Progress | None = None,
) -> tuple[ModelT, DistillHistory]:
    """Distil ``teacher`` into a copy of ``student`` on token rows; loop settings from ``loss_fn.config``.

    Args:
        student: The student (typically the teacher with layers removed); not modified.
        teacher: The teacher; never modified.
        fit_ids: Training rows (rows, length) of token ids.
        val_ids: Validation rows for early stopping and the best weights.
        loss_fn: The distillation loss; its config holds the loop settings, its layer map the alignment.
        nll: The validation loss of a model on rows (also reported for the teacher).
        batch_of: The batch of some rows (default ``{"input_ids": ids}``); moved to the student's device.
        checkpoints: Optional checkpoint hook (e.g. :class:`~fuseprune.training.FolderCheckpoints`).
        progress: Receives one step per epoch.

    Returns:
        The distilled student (best validation epoch, eval mode) and the history.

    Raises:
        ModelError: The layer map does not fit a pruned copy of the teacher, or the student is not smaller.
    """
    check_student(student, teacher, loss_fn)
    model = copy.deepcopy(student)
    device = next(model.parameters()).device
    batch_of = batch_of or (lambda ids: {"input_ids": ids})

    def step(rows: torch.Tensor, optimizer: torch.optim.Optimizer) -> dict[str, float]:
        batch = {name: value.to(device) for name, value in batch_of(fit_ids[rows]).items()}
        parts = distill_step(model, teacher, batch, loss_fn, optimizer, max_grad_norm=1.0)
        return {"loss": parts["total"], **parts}

    config = loss_fn.config
    history = DistillHistory(teacher_val_loss=nll(teacher, val_ids))
    loop = TrainingLoop(model, config, rows=len(fit_ids), step=step, validate=lambda: nll(model, val_ids),
                        shuffle=EpochShuffle(config.seed), checkpoints=checkpoints)
    with torch.random.fork_rng(devices=[]):
        history = loop.run(history, progress, "distilling")
    log.info("teacher validation loss %.4f", history.teacher_val_loss)
    return model.eval(), history
