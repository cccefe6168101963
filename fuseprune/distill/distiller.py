"""Distilling a pruned tabular student from its teacher: AdamW, warm-up + cosine, early stopping, resumable.

The student is trained on a copy (the one passed in is left as it is); the
teacher runs in eval mode without gradients and is never modified. Early
stopping watches the student's validation NLL per row under the codec's masks
(the same quantity as :func:`fuseprune.tabular.train_tabular`). With a
``checkpoint_dir`` every epoch ends with an atomic checkpoint, and a later call
with the same models, rows and config continues from it and ends with the same
weights as an uninterrupted run.

Example (tabular)::

    from fuseprune.distill import DistillConfig, distill_tabular
    from fuseprune.tabular import TabularGPT, split_of

    teacher = TabularGPT.load("models/teacher")
    student = TabularGPT.load("models/pruned")              # layers deleted from a copy of the teacher
    train, _ = split_of(teacher, table)                     # the rows the teacher was trained on
    config = DistillConfig(alpha=0.7, temperature=2.0, hidden_weight=0.1, max_epochs=30)
    student, history = distill_tabular(student, teacher, train, config, layer_map=[0, 2, 5],
                                       checkpoint_dir="runs/distill-ckpt")   # rerun to resume
    log.info("validation NLL %.3f (teacher %.3f)", min(history.val_loss), history.teacher_val_loss)
    student.save("models/distilled")
"""

from __future__ import annotations

import copy
import functools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from fuseprune.data.table import split_frame
from fuseprune.distill.checkpoint import Checkpoint, load_checkpoint, run_fingerprint, save_checkpoint, weights_copy
from fuseprune.distill.config import DistillConfig
from fuseprune.distill.lineage import check_smaller, teacher_layer_map
from fuseprune.distill.losses import DistillationLoss
from fuseprune.distill.step import distill_step
from fuseprune.errors import ModelError
from fuseprune.outputs import CHECKPOINT, check_folder, written_by_fuseprune
from fuseprune.presets import distill_config, preset_of
from fuseprune.progress import Progress, or_null
from fuseprune.tabular.interface import Codec
from fuseprune.tabular.loss import mean_row_nll
from fuseprune.tabular.model import TabularGPT
from fuseprune.tabular.train import _warmup_cosine

log = logging.getLogger(__name__)
PARTS = ("total", "kl", "ce", "hidden")


@dataclass
class DistillHistory:
    """What happened during distillation, one entry per epoch (JSON-ready).

    Attributes:
        val_loss: The student's validation NLL per row (nats).
        total, kl, ce, hidden: Training means of the loss and its parts.
        teacher_val_loss: The teacher's NLL per row on the same validation rows.
        best_epoch: Epoch of the returned weights (lowest ``val_loss``).
        seconds: Wall-clock time over all sessions of the run.
        stopped: ``early_stopping``, ``max_epochs``, ``time_budget`` or ``running``.
        resumed_at: Finished epochs found in the checkpoint at each resume.
    """

    val_loss: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    kl: list[float] = field(default_factory=list)
    ce: list[float] = field(default_factory=list)
    hidden: list[float] = field(default_factory=list)
    teacher_val_loss: float | None = None
    best_epoch: int = 0
    seconds: float = 0.0
    stopped: str = "running"
    resumed_at: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the history as a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> DistillHistory:
        """Rebuild a history from :meth:`to_dict` output."""
        return cls(**payload)


def distill_tabular(
    student: TabularGPT,
    teacher: TabularGPT,
    train_frame: pd.DataFrame,
    config: DistillConfig | None = None,
    *,
    layer_map: list[int] | tuple[int, ...] | None = None,
    checkpoint_dir: str | Path | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> tuple[TabularGPT, DistillHistory]:
    """Distil ``teacher`` into a copy of ``student`` on the rows of ``train_frame``.

    Args:
        student: The student (typically the teacher with layers removed).
        teacher: The teacher; never modified.
        train_frame: Training rows; a seeded validation split is carved from them.
        config: Loss weights and loop settings (default: the distillation recipe of the teacher's preset).
        layer_map: Teacher layer index of every student layer (needed for hidden alignment).
        checkpoint_dir: Folder of the resumable checkpoint, written after every epoch.
        overwrite: Replace a ``checkpoint_dir`` that is not a checkpoint fuseprune wrote.
        progress: Receives one step per epoch.

    Returns:
        The distilled student (best validation epoch) and the history.

    Raises:
        ModelError: Codecs differ, the student is not smaller than the teacher, its pruning record
            names another teacher, or the layer map does not fit a pruned copy of the teacher.
        OutputError: ``checkpoint_dir`` may not be written (checked first).
    """
    if checkpoint_dir is not None:
        check_folder(checkpoint_dir, CHECKPOINT, overwrite)
    config = config or distill_config(preset_of(teacher.model.config, teacher.info.get("preset")))
    if student.codec.to_dict() != teacher.codec.to_dict():
        raise ModelError("the teacher's codec differs from the student's; distil a student pruned from this teacher.")
    loss_fn = DistillationLoss(config, layer_map)
    loss_fn.check_models(student.model, teacher.model)
    check_smaller(student.model, teacher.model)
    teacher_layer_map(student.info, teacher.model)  # refuses a student pruned from another teacher
    fit_rows, val_rows = split_frame(train_frame, config.validation_fraction, config.seed)
    codec = student.codec
    fit_ids, val_ids = codec.encode(fit_rows), codec.encode(val_rows)
    run = _Run(copy.deepcopy(student.model), teacher.model, loss_fn, codec, fit_ids, val_ids)
    run.overwrite = overwrite
    fingerprint = ""
    if checkpoint_dir is not None:
        payload = {"config": config.to_dict(), "layer_map": loss_fn.layer_map, "codec": codec.to_dict()}
        fingerprint = run_fingerprint(payload, train_frame, student.model, teacher.model)
    with torch.random.fork_rng(devices=[]):
        history = run.fit(checkpoint_dir, fingerprint, or_null(progress))
    return TabularGPT(run.model.eval(), codec, _info(student, teacher, loss_fn, history)), history


def _info(student: TabularGPT, teacher: TabularGPT, loss_fn: DistillationLoss, history: DistillHistory) -> dict:
    info = copy.deepcopy(student.info)
    info["distill"] = {
        "config": loss_fn.config.to_dict(),
        "layer_map": None if loss_fn.layer_map is None else list(loss_fn.layer_map),
        "teacher_parameters": sum(p.numel() for p in teacher.model.parameters()),
        "history": history.to_dict(),
    }
    return info


def _epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch) % 2**63


def _stop_reason(history: DistillHistory, epoch: int, config: DistillConfig, seconds: float) -> str:
    if epoch - history.best_epoch >= config.patience:
        return "early_stopping"
    if epoch + 1 >= config.max_epochs:
        return "max_epochs"
    return "time_budget" if config.max_minutes and seconds >= 60 * config.max_minutes else "running"


class _Run:
    """The state of one distillation run: model, optimizer, scheduler, history and best weights."""

    def __init__(
        self, model: nn.Module, teacher: nn.Module, loss_fn: DistillationLoss, codec: Codec,
        fit_ids: torch.Tensor, val_ids: torch.Tensor,
    ) -> None:
        self.model, self.teacher, self.loss_fn, self.codec = model, teacher, loss_fn, codec
        self.fit_ids, self.val_ids = fit_ids, val_ids
        self.config = cfg = loss_fn.config
        steps = math.ceil(len(fit_ids) / cfg.batch_size) * cfg.max_epochs
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        self.scheduler = _warmup_cosine(self.optimizer, steps, cfg.warmup_fraction)
        self.history = DistillHistory()
        self.best_state: dict[str, torch.Tensor] | None = None
        self.overwrite = False  # replace a checkpoint folder fuseprune did not write

    def fit(self, folder: str | Path | None, fingerprint: str, progress: Progress) -> DistillHistory:
        cfg = self.config
        ours = folder is not None and written_by_fuseprune(folder, CHECKPOINT)
        done = self._resume(folder, fingerprint) if ours else 0
        history = self.history
        if history.teacher_val_loss is None:
            history.teacher_val_loss = mean_row_nll(self.teacher, self.val_ids, self.codec)
        history.stopped = "running" if history.stopped == "time_budget" else history.stopped
        self.best_state = self.best_state or weights_copy(self.model)
        started, before = time.perf_counter(), history.seconds
        deadline = started + 60 * cfg.max_minutes if cfg.max_minutes else math.inf
        progress.start("distilling", cfg.max_epochs)
        if done:
            progress.advance(done)
        shown: dict[str, float] = {}
        for epoch in range(done, cfg.max_epochs if history.stopped == "running" else done):
            means = self._train_epoch(epoch, deadline, functools.partial(progress.advance, 0, **shown))
            val = mean_row_nll(self.model, self.val_ids, self.codec)
            self._record(epoch, means, val)
            history.seconds = before + time.perf_counter() - started
            history.stopped = _stop_reason(history, epoch, cfg, time.perf_counter() - started)
            if folder is not None:
                self._save(folder, fingerprint, epoch + 1)
            shown = {"val_loss": val, "kl": means["kl"]}
            progress.advance(1, **shown)
            if history.stopped != "running":
                break
        progress.stop()
        self.model.load_state_dict(self.best_state)
        log.info("distilled %d epochs in %.1fs; best validation NLL %.4f at epoch %d (teacher %.4f; %s)",
                 len(history.val_loss), history.seconds, min(history.val_loss, default=math.nan),
                 history.best_epoch, history.teacher_val_loss, history.stopped)
        return history

    def _train_epoch(
        self, epoch: int, deadline: float = math.inf, report: Callable[..., None] = lambda **_: None
    ) -> dict[str, float]:
        """One pass over the training rows (cut short once ``deadline`` passes); the mean loss parts.

        ``report(step=..., loss=...)`` is called after every optimisation step (the progress bar's detail).
        """
        seed, cfg = _epoch_seed(self.config.seed, epoch), self.config
        torch.manual_seed(seed)  # dropout
        order = torch.randperm(len(self.fit_ids), generator=torch.Generator().manual_seed(seed))
        device = next(self.model.parameters()).device
        sums, seen = dict.fromkeys(PARTS, 0.0), 0
        batches = order.split(cfg.batch_size)
        for step, index in enumerate(batches, 1):
            ids = self.fit_ids[index]
            batch = {"input_ids": ids.to(device), "logit_bias": self.codec.logit_bias(ids).to(device)}
            parts = distill_step(self.model, self.teacher, batch, self.loss_fn, self.optimizer, max_grad_norm=1.0)
            self.scheduler.step()
            seen += len(index)
            for name in PARTS:
                sums[name] += parts[name] * len(index)
            report(step=f"{step}/{len(batches)}", loss=parts["total"])
            if time.perf_counter() >= deadline:
                break
        return {name: value / max(seen, 1) for name, value in sums.items()}

    def _record(self, epoch: int, means: dict[str, float], val: float) -> None:
        history = self.history
        if not history.val_loss or val < min(history.val_loss):
            history.best_epoch, self.best_state = epoch, weights_copy(self.model)
        history.val_loss.append(val)
        for name in PARTS:
            getattr(history, name).append(means[name])

    def _resume(self, folder: str | Path, fingerprint: str) -> int:
        checkpoint = load_checkpoint(folder, fingerprint)
        if checkpoint is None:
            return 0
        self.model.load_state_dict(checkpoint.student)
        self.optimizer.load_state_dict(checkpoint.optimizer)
        self.scheduler.load_state_dict(checkpoint.scheduler)
        self.best_state = checkpoint.best
        self.history = DistillHistory.from_dict(checkpoint.history)
        self.history.resumed_at.append(checkpoint.epochs_done)
        log.info("resuming distillation from %s after epoch %d", folder, checkpoint.epochs_done)
        return checkpoint.epochs_done

    def _save(self, folder: str | Path, fingerprint: str, epochs_done: int) -> None:
        checkpoint = Checkpoint(
            epochs_done=epochs_done,
            history=self.history.to_dict(),
            student=weights_copy(self.model),
            best=self.best_state or weights_copy(self.model),
            optimizer=self.optimizer.state_dict(),
            scheduler=self.scheduler.state_dict(),
        )
        save_checkpoint(folder, fingerprint, checkpoint, self.overwrite)
        self.overwrite = False  # the folder is a checkpoint now
