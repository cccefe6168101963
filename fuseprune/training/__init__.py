"""The training loop every model of fuseprune is trained with: teachers (tabular app) and distilled students.

- :class:`TrainingLoop`: epochs, warm-up + cosine schedule, validation and best
  weights, early stopping, epoch budget, time budget, progress and optional
  checkpoint/resume; the caller supplies the step function and the validation loss.
- :func:`stop_reason`: the one order of the stop checks.
- :class:`RunShuffle`, :class:`EpochShuffle`: the row order of every epoch
  (the second makes runs resumable).
- :class:`FolderCheckpoints`: a resumable checkpoint folder, written without pickle.
"""

from __future__ import annotations

from fuseprune.training.checkpoint import Checkpoint, FolderCheckpoints, run_fingerprint, weights_copy
from fuseprune.training.loop import Checkpoints, LoopHistory, Shuffle, StepFn, TrainingLoop, optimizer_step, stop_reason
from fuseprune.training.schedule import EpochShuffle, RunShuffle, warmup_cosine

__all__ = [
    "Checkpoint",
    "Checkpoints",
    "EpochShuffle",
    "FolderCheckpoints",
    "LoopHistory",
    "RunShuffle",
    "Shuffle",
    "StepFn",
    "TrainingLoop",
    "optimizer_step",
    "run_fingerprint",
    "stop_reason",
    "warmup_cosine",
    "weights_copy",
]
