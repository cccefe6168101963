"""Distilling a pruned TabularGPT from its teacher on table rows: the engine's distiller with the codec's masks.

Early stopping watches the student's validation NLL per row under the codec's
masks (the quantity :func:`~fuseprune.tabular.train_tabular` watches), on a
seeded ``validation_fraction`` of the rows. With a ``checkpoint_dir`` every
epoch ends with an atomic checkpoint, and a later call with the same models,
rows and config continues from it and ends with the same weights as an
uninterrupted run.

Example::

    from fuseprune.distill import DistillConfig
    from fuseprune.tabular import TabularGPT, distill_tabular, split_of

    teacher = TabularGPT.load("models/teacher")
    student = TabularGPT.load("models/pruned")              # layers deleted from a copy of the teacher
    train, _ = split_of(teacher, table)                     # the rows the teacher was trained on
    config = DistillConfig(alpha=0.7, temperature=2.0, hidden_weight=0.1, max_epochs=30)
    student, history = distill_tabular(student, teacher, train, config, layer_map=[0, 2, 5],
                                       checkpoint_dir="runs/distill-ckpt")   # rerun to resume
    student.save("models/distilled")
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from fuseprune.data.table import split_frame
from fuseprune.distill import DistillationLoss, DistillConfig, DistillHistory, check_student, distill_model
from fuseprune.distill.lineage import teacher_layer_map
from fuseprune.errors import ModelError
from fuseprune.outputs import CHECKPOINT, check_folder
from fuseprune.presets import distill_config, preset_of
from fuseprune.progress import Progress
from fuseprune.tabular.interface import Codec
from fuseprune.tabular.loss import mean_row_nll
from fuseprune.tabular.model import TabularGPT
from fuseprune.training import FolderCheckpoints, run_fingerprint


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
    check_student(student.model, teacher.model, loss_fn)  # before the lineage check and any encoding
    teacher_layer_map(student.info, teacher.model)  # refuses a student pruned from another teacher
    fit_rows, val_rows = split_frame(train_frame, config.validation_fraction, config.seed)
    codec = student.codec
    checkpoints = None
    if checkpoint_dir is not None:
        payload = {"config": config.to_dict(), "layer_map": loss_fn.layer_map, "codec": codec.to_dict()}
        fingerprint = run_fingerprint(payload, train_frame, student.model, teacher.model)
        checkpoints = FolderCheckpoints(checkpoint_dir, fingerprint, overwrite)
    model, history = distill_model(
        student.model, teacher.model, codec.encode(fit_rows), codec.encode(val_rows), loss_fn,
        nll=functools.partial(mean_row_nll, codec=codec), batch_of=functools.partial(_masked_batch, codec=codec),
        checkpoints=checkpoints, progress=progress,
    )
    return TabularGPT(model, codec, _info(student, teacher, loss_fn, history)), history


def _masked_batch(ids: torch.Tensor, codec: Codec) -> dict[str, torch.Tensor]:
    return {"input_ids": ids, "logit_bias": codec.logit_bias(ids)}


def _info(student: TabularGPT, teacher: TabularGPT, loss_fn: DistillationLoss, history: DistillHistory) -> dict:
    info: dict[str, Any] = copy.deepcopy(student.info)
    info["distill"] = {
        "config": loss_fn.config.to_dict(),
        "layer_map": None if loss_fn.layer_map is None else list(loss_fn.layer_map),
        "teacher_parameters": sum(p.numel() for p in teacher.model.parameters()),
        "history": history.to_dict(),
    }
    return info
