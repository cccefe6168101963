"""DistillationLoss: soft teacher targets, hard data targets and optional hidden-state alignment.

``total = alpha * T^2 * KL(teacher/T || student/T) + (1 - alpha) * CE + hidden_weight * alignment``

Both next-token distributions are restricted by the same additive logit mask
(0 where a token is allowed, ``-inf`` elsewhere; for tabular models
``codec.logit_bias(ids)``) before the softmax, and the KL is summed over the
allowed tokens only, so masked tokens never produce NaN. Positions whose
target is ``ignore_index`` (padding) count in no term. Hidden-state alignment
compares each student layer's output with the output of the teacher layer it
was copied from (``layer_map[i]`` is the teacher index of student layer ``i``).

See :mod:`fuseprune.distill.step` for a hand-written loop and
:mod:`fuseprune.distill.callback` for the transformers Trainer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn

from fuseprune.distill.config import DistillConfig
from fuseprune.errors import ModelError
from fuseprune.models.adapters import get_adapter
from fuseprune.registry import Registry

IGNORE_INDEX = -100

#: ``(student, teacher, weights) -> scalar``: hidden states (rows, positions, width), weights (rows, positions).
HiddenLoss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
HIDDEN_LOSSES: Registry[HiddenLoss] = Registry("hidden alignment loss")


def _weighted_mean(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    return (values * weights).sum() / weights.sum().clamp_min(1.0)


@HIDDEN_LOSSES.register("mse")
def mse_alignment(student: torch.Tensor, teacher: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Mean squared difference per hidden unit, averaged over the weighted positions (0 when equal)."""
    return _weighted_mean((student - teacher).pow(2).mean(dim=-1), weights)


@HIDDEN_LOSSES.register("cosine")
def cosine_alignment(student: torch.Tensor, teacher: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """``1 - cos(student, teacher)`` per position, averaged: 0 aligned, 1 orthogonal, 2 opposite."""
    return _weighted_mean(1.0 - F.cosine_similarity(student, teacher, dim=-1, eps=1e-8), weights)


@dataclass(frozen=True)
class LossParts:
    """The distillation loss and its unweighted parts (scalar tensors).

    Attributes:
        total: ``alpha * T^2 * kl + (1 - alpha) * ce + hidden_weight * hidden`` (terms with weight 0 are left out).
        kl: Mean KL(teacher || student) per position at temperature T.
        ce: Mean cross-entropy per position of the data targets (temperature 1).
        hidden: Mean hidden-state alignment over the aligned layers (0 when off).
    """

    total: torch.Tensor
    kl: torch.Tensor
    ce: torch.Tensor
    hidden: torch.Tensor

    def to_floats(self) -> dict[str, float]:
        """Return ``{"total", "kl", "ce", "hidden"}`` as Python floats, for logging."""
        return {name: float(getattr(self, name).detach()) for name in ("total", "kl", "ce", "hidden")}


def _allowed(logit_bias: torch.Tensor | None) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Return (bias, allowed) with positions where nothing is allowed opened up (never NaN)."""
    if logit_bias is None:
        return None, None
    allowed = logit_bias > float("-inf")
    dead = ~allowed.any(dim=-1, keepdim=True)
    if dead.any():
        logit_bias, allowed = logit_bias.masked_fill(dead, 0.0), allowed | dead
    return logit_bias.float(), allowed


def token_kl(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    temperature: float = 1.0,
    logit_bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """KL(teacher/T || student/T) at every position, both restricted by ``logit_bias``.

    Args:
        student_logits: (..., vocab).
        teacher_logits: (..., vocab), same shape.
        temperature: Softmax temperature T.
        logit_bias: Additive mask broadcastable to the logits (0 allowed, -inf not).

    Returns:
        Per-position KL in nats, shape ``student_logits.shape[:-1]``.
    """
    bias, allowed = _allowed(logit_bias)
    student, teacher = student_logits.float() / temperature, teacher_logits.float() / temperature
    if bias is not None:
        student, teacher = student + bias, teacher + bias
    log_s, log_t = torch.log_softmax(student, dim=-1), torch.log_softmax(teacher, dim=-1)
    terms = log_t.exp() * (log_t - log_s)
    if allowed is not None:
        terms = torch.where(allowed, terms, torch.zeros((), dtype=terms.dtype))
    return terms.sum(dim=-1)


def token_ce(logits: torch.Tensor, targets: torch.Tensor, logit_bias: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy of ``targets`` under masked logits; 0 where the target is ``IGNORE_INDEX``."""
    bias, _ = _allowed(logit_bias)
    logits = logits.float() if bias is None else logits.float() + bias
    keep = targets != IGNORE_INDEX
    nll = -torch.log_softmax(logits, dim=-1).gather(-1, targets.clamp_min(0).unsqueeze(-1)).squeeze(-1)
    return torch.where(keep, nll, torch.zeros((), dtype=nll.dtype))


def check_layer_map(layer_map: Sequence[int], num_student_layers: int, num_teacher_layers: int) -> tuple[int, ...]:
    """Check that ``layer_map`` describes a student pruned from the teacher; return it as a tuple.

    Raises:
        ModelError: Wrong length, an index out of range, or indices not strictly increasing.
    """
    kept = tuple(int(i) for i in layer_map)
    if len(kept) != num_student_layers:
        raise ModelError(
            f"`layer_map` must hold one teacher layer per student layer ({num_student_layers}); got {len(kept)}."
        )
    bad = [i for i in kept if not 0 <= i < num_teacher_layers]
    if bad:
        raise ModelError(f"`layer_map` indices must be between 0 and {num_teacher_layers - 1}; got {bad}.")
    if any(b <= a for a, b in pairwise(kept)):
        raise ModelError(f"`layer_map` must be strictly increasing (a pruned copy keeps the order); got {list(kept)}.")
    return kept


def _width(model: nn.Module) -> int | None:
    return getattr(getattr(model, "config", None), "hidden_size", None)


class DistillationLoss:
    """The distillation loss of a student against its teacher; call it on aligned logits.

    Args:
        config: Weights, temperature and alignment kind (other fields are ignored here).
        layer_map: Teacher layer index of each student layer; required for hidden alignment.
        ignore_index: Target value of positions that count in no term.

    Raises:
        ModelError: Hidden alignment is asked for without a layer map.
    """

    def __init__(
        self,
        config: DistillConfig | None = None,
        layer_map: Sequence[int] | None = None,
        ignore_index: int = IGNORE_INDEX,
    ) -> None:
        self.config = config or DistillConfig()
        self.layer_map = None if layer_map is None else tuple(int(i) for i in layer_map)
        self.ignore_index = ignore_index
        if self.config.uses_hidden and self.layer_map is None:
            raise ModelError(
                "hidden-state alignment needs the layer map of a student pruned from the teacher; "
                "pass layer_map (the teacher index of every student layer) or set hidden_weight=0."
            )

    @property
    def uses_hidden(self) -> bool:
        """Whether the loss needs per-layer hidden states of both models."""
        return self.config.uses_hidden

    def check_models(self, student: nn.Module, teacher: nn.Module) -> None:
        """Raise a one-line ``ModelError`` unless the layer map fits a student pruned from ``teacher``."""
        if self.layer_map is None:
            return
        check_layer_map(self.layer_map, get_adapter(student).num_layers, get_adapter(teacher).num_layers)
        widths = _width(student), _width(teacher)
        if None not in widths and widths[0] != widths[1]:
            raise ModelError(
                f"student and teacher hidden sizes differ ({widths[0]} vs {widths[1]}); "
                "layer alignment needs a student pruned from this teacher."
            )

    def __call__(
        self,
        student_logits: torch.Tensor,
        teacher_logits: torch.Tensor,
        targets: torch.Tensor,
        *,
        logit_bias: torch.Tensor | None = None,
        student_hidden: Sequence[torch.Tensor] | None = None,
        teacher_hidden: Sequence[torch.Tensor] | None = None,
    ) -> LossParts:
        """Compute the loss at aligned positions: ``logits[:, t]`` predicts ``targets[:, t]``.

        Args:
            student_logits: (rows, positions, vocab).
            teacher_logits: (rows, positions, vocab); treated as constants.
            targets: (rows, positions) token ids, ``ignore_index`` where nothing is predicted.
            logit_bias: Additive mask applied to both models' logits, broadcastable to them.
            student_hidden: Output of every student layer (rows, >= positions, width).
            teacher_hidden: Output of every teacher layer (rows, >= positions, width).
        """
        cfg = self.config
        weights = (targets != self.ignore_index).float()
        teacher_logits = teacher_logits.detach()
        keep_targets = targets.masked_fill(targets == self.ignore_index, IGNORE_INDEX)
        kl = _weighted_mean(token_kl(student_logits, teacher_logits, cfg.temperature, logit_bias), weights)
        ce = _weighted_mean(token_ce(student_logits, keep_targets, logit_bias), weights)
        hidden = self._hidden(student_hidden, teacher_hidden, weights) if cfg.uses_hidden else kl.new_zeros(())
        terms = [(cfg.alpha * cfg.temperature**2, kl), (1.0 - cfg.alpha, ce), (cfg.hidden_weight, hidden)]
        total = sum((w * term for w, term in terms if w > 0), kl.new_zeros(()))
        return LossParts(total, kl, ce, hidden)

    def _hidden(
        self, student: Sequence[torch.Tensor] | None, teacher: Sequence[torch.Tensor] | None, weights: torch.Tensor
    ) -> torch.Tensor:
        if not student or not teacher or self.layer_map is None:
            raise ModelError("hidden-state alignment is on but the layer outputs of both models were not given.")
        check_layer_map(self.layer_map, len(student), len(teacher))
        align, positions = HIDDEN_LOSSES.get(self.config.hidden_loss), weights.shape[1]
        losses = []
        for s_index, t_index in enumerate(self.layer_map):
            s, t = student[s_index][:, :positions].float(), teacher[t_index][:, :positions].float().detach()
            if s.shape != t.shape:
                raise ModelError(
                    f"student layer {s_index} and teacher layer {t_index} outputs differ in shape "
                    f"({tuple(s.shape)} vs {tuple(t.shape)}); layer alignment needs a pruned copy."
                )
            losses.append(align(s, t, weights))
        return torch.stack(losses).mean()
