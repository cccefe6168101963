"""Distillation of a pruned student from its teacher: the loss, the resumable loop, any loop, transformers.

- :class:`DistillationLoss` (configured by :class:`DistillConfig`): soft teacher
  targets, data cross-entropy and optional hidden-state alignment.
- :func:`distill_model`: the resumable loop (the engine's :mod:`fuseprune.training`
  loop) for any causal LM on token rows; a TabularGPT goes through
  :func:`fuseprune.tabular.distill_tabular`.
- :func:`distill_step`: one step for a hand-written loop.
- :class:`DistillationCallback` (plain ``transformers.Trainer``) and :class:`DistillationTrainer`.
"""

from __future__ import annotations

from fuseprune.distill.callback import DistillationCallback, DistillationTrainer
from fuseprune.distill.config import DistillConfig
from fuseprune.distill.distiller import DistillHistory, check_student, distill_model
from fuseprune.distill.layers import LayerOutputs
from fuseprune.distill.losses import (
    HIDDEN_LOSSES,
    DistillationLoss,
    LossParts,
    check_layer_map,
    token_ce,
    token_kl,
)
from fuseprune.distill.step import distill_step, distillation_parts

__all__ = [
    "HIDDEN_LOSSES",
    "DistillConfig",
    "DistillHistory",
    "DistillationCallback",
    "DistillationLoss",
    "DistillationTrainer",
    "LayerOutputs",
    "LossParts",
    "check_layer_map",
    "check_student",
    "distill_model",
    "distill_step",
    "distillation_parts",
    "token_ce",
    "token_kl",
]
