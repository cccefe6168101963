"""Distillation inside a transformers ``Trainer``: a callback for a plain Trainer, or a Trainer subclass.

:class:`DistillationCallback` hooks the student on train begin so that every
forward pass returns the distillation loss as ``outputs.loss`` (the Trainer
back-propagates it as usual) and removes the hooks on train end.
:class:`DistillationTrainer` does the same by overriding ``compute_loss``.

Example (plain ``transformers.Trainer``)::

    from transformers import Trainer, TrainingArguments
    from fuseprune.distill import DistillConfig, DistillationCallback, DistillationLoss

    loss_fn = DistillationLoss(DistillConfig(alpha=0.9, temperature=2.0), layer_map=kept)
    callback = DistillationCallback(teacher.model, loss_fn, logit_bias_fn=teacher.codec.logit_bias)
    rows = [{"input_ids": ids} for ids in teacher.codec.encode(train_frame)]
    args = TrainingArguments("out", max_steps=500, learning_rate=5e-4, report_to=[], save_strategy="no")
    Trainer(model=student.model, args=args, train_dataset=rows, callbacks=[callback]).train()
    log.info("last step: %s", callback.history[-1])    # {"total", "kl", "ce", "hidden"}
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from transformers import Trainer, TrainerCallback
from transformers.utils import ModelOutput

from fuseprune.distill.layers import LayerOutputs
from fuseprune.distill.losses import DistillationLoss
from fuseprune.distill.step import (
    causal_targets,
    distillation_parts,
    output_logits,
    teacher_outputs,
)
from fuseprune.errors import ModelError

log = logging.getLogger(__name__)

#: Full input ids (rows, length) -> additive next-token mask (rows or 1, length - 1, vocab).
LogitBiasFn = Callable[[torch.Tensor], torch.Tensor]


def _with_loss(output: Any, loss: torch.Tensor) -> Any:
    if isinstance(output, ModelOutput):
        return type(output)(**{**dict(output), "loss": loss})
    if isinstance(output, tuple):
        return (loss, *output)
    return {"loss": loss, "logits": output}


def _counts_shifted_labels(model: nn.Module) -> bool:
    """Whether the Trainer counts ``num_items_in_batch`` over ``labels[..., 1:]`` rather than all labels.

    transformers 5 does so for models whose ``loss_type`` maps to the causal-LM loss.
    """
    try:
        from transformers.loss.loss_utils import LOSS_MAPPING, ForCausalLMLoss
    except ImportError:  # pragma: no cover - other transformers layouts
        return True
    encoder_decoder = getattr(getattr(model, "config", None), "is_encoder_decoder", False)
    loss_type = getattr(model, "loss_type", None)
    causal = isinstance(loss_type, str) and LOSS_MAPPING.get(loss_type) is ForCausalLMLoss
    return causal and not encoder_decoder


class DistillationCallback(TrainerCallback):
    """Make a plain ``Trainer`` optimise the distillation loss instead of the model's own loss.

    Args:
        teacher: The teacher network; run in eval mode without gradients, never updated.
        loss_fn: The distillation loss (its layer map is checked against the models on train begin).
        logit_bias_fn: Optional mask of the next-token distributions from the input ids
            (for tabular models ``codec.logit_bias``).

    Attributes:
        history: ``{"total", "kl", "ce", "hidden"}`` of every training forward pass.

    The student's own loss is never computed: ``labels`` (optional; default the
    input ids) only give the data targets. When the Trainer normalises by token
    count (``num_items_in_batch``, passed when the batch has labels) each
    batch's mean loss is weighted by its share of the tokens, so gradient
    accumulation gives the mean over the accumulated rows either way.
    """

    def __init__(
        self, teacher: nn.Module, loss_fn: DistillationLoss, *, logit_bias_fn: LogitBiasFn | None = None
    ) -> None:
        self.teacher = teacher
        self.loss_fn = loss_fn
        self.logit_bias_fn = logit_bias_fn
        self.history: list[dict[str, float]] = []
        self._handles: list[Any] = []
        self._layers: LayerOutputs | None = None
        self._pending: dict[str, Any] = {}
        self._shifted = True

    def on_train_begin(
        self, args: Any, state: Any, control: Any, model: nn.Module | None = None, **kwargs: Any
    ) -> None:
        """Check the models and hook the student's forward pass."""
        if model is None:
            raise ModelError("DistillationCallback needs the Trainer to pass the model to on_train_begin.")
        self._remove()
        self.loss_fn.check_models(model, self.teacher)
        self.teacher.eval()
        self._shifted = _counts_shifted_labels(model)
        self._layers = LayerOutputs(model, enabled=self.loss_fn.uses_hidden).start()
        self._handles = [
            model.register_forward_pre_hook(self._before, with_kwargs=True),
            model.register_forward_hook(self._after, with_kwargs=True),
        ]
        log.info("distillation hooks on %s (teacher %s)", type(model).__name__, type(self.teacher).__name__)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Remove the hooks: the student's forward is its own again."""
        self._remove()

    def _remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        if self._layers is not None:
            self._layers.stop()
            self._layers.clear()
            self._layers = None

    def _before(self, module: nn.Module, args: tuple, kwargs: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
        kwargs = dict(kwargs)
        self._pending = {"labels": kwargs.pop("labels", None), "n_items": kwargs.pop("num_items_in_batch", None)}
        if self._layers is not None:
            self._layers.clear()
        return args, kwargs

    def _after(self, module: nn.Module, args: tuple, kwargs: dict[str, Any], output: Any) -> Any:
        ids = kwargs["input_ids"] if kwargs.get("input_ids") is not None else args[0]
        batch = {"input_ids": ids, "attention_mask": kwargs.get("attention_mask"), "labels": self._pending["labels"]}
        inputs = {k: v for k, v in batch.items() if k != "labels" and v is not None}
        teacher_logits, teacher_hidden = teacher_outputs(self.teacher, inputs, self.loss_fn.uses_hidden)
        targets = causal_targets(batch, self.loss_fn.ignore_index)
        parts = self.loss_fn(
            output_logits(output)[:, :-1],
            teacher_logits[:, :-1],
            targets,
            logit_bias=None if self.logit_bias_fn is None else self.logit_bias_fn(ids).to(ids.device),
            student_hidden=self._layers.outputs if self._layers is not None else None,
            teacher_hidden=teacher_hidden,
        )
        if module.training:
            self.history.append(parts.to_floats())
        loss, n_items, labels = parts.total, self._pending["n_items"], self._pending["labels"]
        if n_items is not None and labels is not None:
            # The Trainer then expects sum / items in the whole accumulated batch and does not divide by the
            # accumulation steps: weigh this batch's mean by its share of the items, counted the Trainer's way.
            counted = labels[..., 1:] if self._shifted else labels
            loss = loss * (counted != -100).sum() / n_items
        return _with_loss(output, loss)


class DistillationTrainer(Trainer):
    """A ``Trainer`` whose ``compute_loss`` is the distillation loss against ``teacher``.

    Args:
        *args: Passed to ``Trainer``.
        teacher: The teacher network; run in eval mode without gradients, never updated.
        loss_fn: The distillation loss.
        logit_bias_fn: Optional mask of the next-token distributions from the input ids.
        **kwargs: Passed to ``Trainer``.
    """

    def __init__(
        self,
        *args: Any,
        teacher: nn.Module,
        loss_fn: DistillationLoss,
        logit_bias_fn: LogitBiasFn | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if self.model is None:  # Trainer also accepts `model_init`; distillation needs the student itself
            raise ModelError("`model` must be the student; got None.")
        loss_fn.check_models(self.model, teacher)
        self.teacher = teacher.eval()
        self.distill_loss = loss_fn
        self.logit_bias_fn = logit_bias_fn
        self.loss_is_scaled_for_ga = False  # a per-batch mean: the Trainer divides by accumulation steps

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        """Return the distillation loss of ``model`` on ``inputs`` (and the student output if asked)."""
        batch = dict(inputs)
        if self.logit_bias_fn is not None:
            batch["logit_bias"] = self.logit_bias_fn(batch["input_ids"]).to(batch["input_ids"].device)
        parts, output = distillation_parts(model, self.teacher, batch, self.distill_loss)
        return (parts.total, output) if return_outputs else parts.total
