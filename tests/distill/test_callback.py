"""Distillation inside transformers: a plain Trainer with DistillationCallback, and DistillationTrainer."""

from __future__ import annotations

import math

import pytest
import torch
from transformers import Trainer, TrainingArguments

from fuseprune.distill import DistillationCallback, DistillationLoss, DistillationTrainer, DistillConfig
from fuseprune.errors import ModelError


def training_args(tmp_path, steps: int = 25, **overrides: object) -> TrainingArguments:
    settings = {
        "output_dir": str(tmp_path / "out"), "use_cpu": True, "report_to": [], "max_steps": steps,
        "per_device_train_batch_size": 16, "learning_rate": 3e-3, "lr_scheduler_type": "constant",
        "save_strategy": "no", "logging_strategy": "no", "disable_tqdm": True, "seed": 0,
    }
    return TrainingArguments(**{**settings, **overrides})


def rows_of(ids: torch.Tensor, labels: bool = False) -> list[dict[str, torch.Tensor]]:
    return [{"input_ids": row, **({"labels": row.clone()} if labels else {})} for row in ids]


@pytest.mark.parametrize("labels", [False, True], ids=["input-ids-only", "with-labels"])
def test_plain_trainer_with_the_callback_lowers_the_kl(tmp_path, tiny_bundle, wisconsin, pruned, fixed_rows, kl_of,
                                                        state_of, labels):
    teacher, student = tiny_bundle.model, pruned(tiny_bundle, [1]).model
    ids, bias = fixed_rows
    before_teacher, kl_before = state_of(teacher), kl_of(student, teacher, ids, bias)
    loss_fn = DistillationLoss(DistillConfig(alpha=0.8, temperature=2.0, hidden_weight=0.1), layer_map=[1])
    callback = DistillationCallback(teacher, loss_fn, logit_bias_fn=tiny_bundle.codec.logit_bias)
    train_ids = tiny_bundle.codec.encode(wisconsin.frame.iloc[64:320])
    args = training_args(tmp_path, gradient_accumulation_steps=2 if labels else 1)
    Trainer(model=student, args=args, train_dataset=rows_of(train_ids, labels), callbacks=[callback]).train()
    assert len(callback.history) == 25 * args.gradient_accumulation_steps
    assert all(math.isfinite(v) for step in callback.history for v in step.values())
    assert callback.history[-1]["hidden"] > 0
    assert kl_of(student, teacher, ids, bias) < 0.7 * kl_before
    assert state_of(teacher) == before_teacher
    assert not student._forward_hooks and not student._forward_pre_hooks  # restored on train end
    assert student(input_ids=ids[:2]).loss is None


@pytest.mark.parametrize(("labels", "accumulate"), [(False, 1), (True, 2), (False, 2)])
def test_callback_loss_is_what_the_trainer_back_propagates(tmp_path, tiny_bundle, wisconsin, pruned, labels,
                                                           accumulate):
    # One step of SGD with lr 1 moves every weight by minus its gradient; compare with the gradient of the
    # distillation loss computed by hand on the same 8 rows, whether the Trainer accumulates 2 x 4 rows
    # normalised by token count (labels given) or by accumulation steps (no labels).
    teacher, student = tiny_bundle.model, pruned(tiny_bundle, [0]).model
    reference = pruned(tiny_bundle, [0]).model
    loss_fn = DistillationLoss(DistillConfig(alpha=0.5, temperature=2.0))
    callback = DistillationCallback(teacher, loss_fn, logit_bias_fn=tiny_bundle.codec.logit_bias)
    ids = tiny_bundle.codec.encode(wisconsin.frame.iloc[:8])
    args = training_args(tmp_path, steps=1, per_device_train_batch_size=8 // accumulate, optim="sgd", learning_rate=1.0,
                         max_grad_norm=0.0, weight_decay=0.0, gradient_accumulation_steps=accumulate)
    Trainer(model=student, args=args, train_dataset=rows_of(ids, labels), callbacks=[callback]).train()
    with torch.no_grad():
        teacher_logits = teacher(input_ids=ids).logits
    logits = reference.train()(input_ids=ids).logits
    bias = tiny_bundle.codec.logit_bias(ids)
    loss_fn(logits[:, :-1], teacher_logits[:, :-1], ids[:, 1:], logit_bias=bias).total.backward()
    weight = "transformer.h.0.mlp.c_fc.weight"
    expected = reference.get_parameter(weight) - reference.get_parameter(weight).grad
    assert torch.allclose(student.get_parameter(weight), expected, atol=1e-5)


def test_callback_refuses_a_student_that_is_not_a_pruned_copy(tmp_path, tiny_bundle, pruned):
    loss_fn = DistillationLoss(DistillConfig(hidden_weight=0.1), layer_map=[0, 1])  # student has one layer
    callback = DistillationCallback(tiny_bundle.model, loss_fn)
    student = pruned(tiny_bundle, [0]).model
    ids = torch.ones(4, tiny_bundle.codec.sequence_length, dtype=torch.long)
    trainer = Trainer(model=student, args=training_args(tmp_path, steps=1), train_dataset=rows_of(ids),
                      callbacks=[callback])
    with pytest.raises(ModelError, match="one teacher layer per student layer"):
        trainer.train()


def test_distillation_trainer_lowers_the_kl(tmp_path, tiny_bundle, wisconsin, pruned, fixed_rows, kl_of, state_of):
    teacher, student = tiny_bundle.model, pruned(tiny_bundle, [0]).model
    ids, bias = fixed_rows
    before_teacher, kl_before = state_of(teacher), kl_of(student, teacher, ids, bias)
    loss_fn = DistillationLoss(DistillConfig(alpha=1.0, temperature=1.0))
    trainer = DistillationTrainer(
        model=student, args=training_args(tmp_path), train_dataset=rows_of(tiny_bundle.codec.encode(wisconsin.frame)),
        teacher=teacher, loss_fn=loss_fn, logit_bias_fn=tiny_bundle.codec.logit_bias,
    )
    trainer.train()
    assert kl_of(student, teacher, ids, bias) < 0.7 * kl_before
    assert state_of(teacher) == before_teacher
