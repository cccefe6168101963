"""Calibration batches: validation, token masks, targets and the summed loss.

Which tokens count:

- a *valid* token is one with ``attention_mask == 1`` (all tokens without a mask);
- its *target* depends on the head's objective: ``"causal"`` models predict the
  next token (a valid token whose successor is valid has a target), ``"masked"``
  models (BERT family) are scored with labels = input_ids and no input masking,
  i.e. every valid token is its own target (the loss BertForMaskedLM computes with
  ``labels=input_ids``, restricted to non-padding tokens).

Batch invariance: losses are *summed* over target tokens per batch and divided
by the total number of target tokens of the whole calibration set, so every
accumulated quantity equals what one big batch would give. A custom
``loss_fn(logits, batch)`` must return the *mean* loss over the batch's target
tokens; it is multiplied by the batch's target count to get the sum.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from fuseprune.errors import DataError, ModelError
from fuseprune.scoring.base import LossFn

IGNORE_INDEX = -100


@dataclass
class CalibrationBatch:
    """One validated calibration batch on the model's device.

    Attributes:
        inputs: The caller's batch dict with its tensors moved to the device
            (what a custom ``loss_fn`` receives).
        valid: Bool mask ``[B, T]`` of non-padding tokens.
        targets: Target token of each position ``[B, T]``, ``-100`` where none.
    """

    inputs: dict[str, Any]
    valid: torch.Tensor
    targets: torch.Tensor

    @property
    def input_ids(self) -> torch.Tensor:
        """Token ids ``[B, T]``."""
        return self.inputs["input_ids"]

    @property
    def n_tokens(self) -> int:
        """Number of valid tokens."""
        return int(self.valid.sum())

    @property
    def n_targets(self) -> int:
        """Number of tokens that have a target."""
        return int((self.targets != IGNORE_INDEX).sum())

    @property
    def n_rows(self) -> int:
        """Number of rows with at least one valid token."""
        return int(self.valid.any(dim=1).sum())


def prepare_batch(raw: object, device: torch.device, objective: str, index: int) -> CalibrationBatch:
    """Validate one caller batch and derive its masks and targets.

    Args:
        raw: A dict with ``input_ids`` (integer tensor ``[B, T]``) and optional
            ``attention_mask`` (same shape, 0 = padding).
        device: Device to move the tensors to.
        objective: ``"causal"`` or ``"masked"``.
        index: Position of the batch in the calibration data (for error messages).

    Raises:
        DataError: The batch is malformed.
    """
    if not isinstance(raw, Mapping):
        raise DataError(f"each batch must be a dict with 'input_ids'; batch {index} is a {type(raw).__name__}.")
    ids = raw.get("input_ids")
    if not isinstance(ids, torch.Tensor) or ids.dtype.is_floating_point or ids.dtype == torch.bool:
        raise DataError(f"batch {index} 'input_ids' must be an integer tensor; got {type(ids).__name__}.")
    if ids.ndim != 2 or ids.numel() == 0:
        raise DataError(f"batch {index} 'input_ids' must have shape [B, T] with B, T >= 1; got {tuple(ids.shape)}.")
    mask = raw.get("attention_mask")
    if mask is not None and (not isinstance(mask, torch.Tensor) or mask.shape != ids.shape):
        shape = tuple(mask.shape) if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise DataError(f"batch {index} 'attention_mask' must match 'input_ids' {tuple(ids.shape)}; got {shape}.")
    inputs = {k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in raw.items()}
    inputs["input_ids"] = inputs["input_ids"].long()
    ids = inputs["input_ids"]
    valid = inputs["attention_mask"].bool() if mask is not None else torch.ones_like(ids, dtype=torch.bool)
    return CalibrationBatch(inputs=inputs, valid=valid, targets=_targets(ids, valid, objective))


def _targets(ids: torch.Tensor, valid: torch.Tensor, objective: str) -> torch.Tensor:
    if objective == "masked":
        return torch.where(valid, ids, torch.full_like(ids, IGNORE_INDEX))
    targets = torch.full_like(ids, IGNORE_INDEX)
    has_next = valid[:, :-1] & valid[:, 1:]
    targets[:, :-1] = torch.where(has_next, ids[:, 1:], torch.full_like(ids[:, 1:], IGNORE_INDEX))
    return targets


def summed_loss(logits: torch.Tensor, batch: CalibrationBatch, loss_fn: LossFn | None = None) -> torch.Tensor:
    """Return the loss of ``batch`` summed over its target tokens (a 0-d tensor).

    Args:
        logits: Model logits ``[B, T, V]``.
        batch: The calibration batch.
        loss_fn: Optional ``loss_fn(logits, batch_dict) -> scalar mean loss``; the
            default is token cross-entropy against ``batch.targets``.
    """
    if loss_fn is None:
        if logits.ndim != 3 or logits.shape[:2] != batch.targets.shape:
            expected, got = tuple(batch.targets.shape), tuple(logits.shape)
            raise ModelError(f"logits must have shape [B, T, V] matching {expected}; got {got}.")
        flat = logits.reshape(-1, logits.shape[-1]).float()
        return F.cross_entropy(flat, batch.targets.reshape(-1), ignore_index=IGNORE_INDEX, reduction="sum")
    mean = loss_fn(logits, batch.inputs)
    if not isinstance(mean, torch.Tensor) or mean.numel() != 1:
        raise ModelError(f"`loss_fn` must return a scalar tensor; got {type(mean).__name__}.")
    return mean.reshape(()) * batch.n_targets


def iter_batches(batches: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """Return an iterator over ``batches``, rejecting a lone dict or tensor with a clear error."""
    if isinstance(batches, Mapping | torch.Tensor):
        raise DataError("`batches` must be an iterable of dicts; got a single dict or tensor, wrap it in a list.")
    try:
        return iter(batches)
    except TypeError:
        raise DataError(f"`batches` must be an iterable of dicts; got {type(batches).__name__}.") from None


def count_batches(batches: object) -> int | None:
    """Return ``len(batches)`` when it has one (for progress totals), else ``None``."""
    try:
        return len(batches)  # type: ignore[arg-type]
    except TypeError:
        return None
