"""distill_step in a hand-written loop: lowers the KL to the teacher, never touches the teacher."""

from __future__ import annotations

import math

import pytest
import torch

from fuseprune.distill import DistillationLoss, DistillConfig, LayerOutputs, distill_step, distillation_parts
from fuseprune.errors import DataError


def test_hand_written_loop_lowers_the_kl_and_leaves_the_teacher_alone(tiny_bundle, pruned, fixed_rows, kl_of, state_of):
    teacher, student = tiny_bundle.model, pruned(tiny_bundle, [0]).model
    ids, bias = fixed_rows
    before_teacher = state_of(teacher)
    grads_before = [None if p.grad is None else p.grad.clone() for p in teacher.parameters()]
    loss_fn = DistillationLoss(DistillConfig(alpha=1.0, temperature=1.0))
    optimizer = torch.optim.AdamW(student.parameters(), lr=3e-3)
    kl_before = kl_of(student, teacher, ids, bias)
    for step in range(30):
        rows = ids[(step * 16) % 64 :][:16]
        parts = distill_step(student, teacher, {"input_ids": rows, "logit_bias": bias[: len(rows)]}, loss_fn, optimizer)
    assert set(parts) == {"total", "kl", "ce", "hidden"} and all(math.isfinite(v) for v in parts.values())
    assert kl_of(student, teacher, ids, bias) < 0.7 * kl_before
    assert state_of(teacher) == before_teacher
    for p, grad in zip(teacher.parameters(), grads_before, strict=True):  # no gradient reached the teacher
        assert (p.grad is None and grad is None) or torch.equal(p.grad, grad)
    assert not teacher.training


def test_hidden_alignment_step_uses_each_kept_layer(make_gpt2, prune_model):
    teacher = make_gpt2(n_layer=3)
    student = prune_model(teacher, [0, 2])
    loss_fn = DistillationLoss(DistillConfig(alpha=1.0, hidden_weight=1.0), layer_map=[0, 2])
    ids = torch.randint(1, 40, (4, 10), generator=torch.Generator().manual_seed(0))
    student.eval()
    parts, _ = distillation_parts(student, teacher, {"input_ids": ids}, loss_fn)
    # Layer 0 is the same in both and sees the same input, so only student layer 1 (teacher 2) differs.
    with LayerOutputs(teacher) as t_layers, torch.no_grad():
        teacher(input_ids=ids)
    with LayerOutputs(student) as s_layers, torch.no_grad():
        student(input_ids=ids)
    expected = 0.5 * float((s_layers.outputs[1][:, :-1] - t_layers.outputs[2][:, :-1]).pow(2).mean())
    values = parts.to_floats()
    assert values["hidden"] == pytest.approx(expected, rel=1e-5)
    assert values["hidden"] > 0
    assert values["total"] == pytest.approx(values["kl"] * 4 + values["hidden"], rel=1e-5)


def test_padded_rows_count_only_real_tokens(make_gpt2, prune_model):
    teacher = make_gpt2(n_layer=2)
    student = prune_model(teacher, [1])
    loss_fn = DistillationLoss(DistillConfig(alpha=0.0))
    ids = torch.tensor([[5, 6, 7, 8], [5, 6, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    padded, _ = distillation_parts(student, teacher, {"input_ids": ids, "attention_mask": mask}, loss_fn)
    first, _ = distillation_parts(student, teacher, {"input_ids": ids[:1]}, loss_fn)
    second, _ = distillation_parts(student, teacher, {"input_ids": ids[1:, :2]}, loss_fn)
    expected = (3 * first.to_floats()["ce"] + 1 * second.to_floats()["ce"]) / 4  # 3 + 1 real targets
    assert padded.to_floats()["ce"] == pytest.approx(expected, rel=1e-4)


def test_batch_without_input_ids_is_refused(make_gpt2):
    model = make_gpt2(n_layer=1)
    with pytest.raises(DataError, match="must hold `input_ids`"):
        distillation_parts(model, model, {"ids": torch.ones(1, 3, dtype=torch.long)}, DistillationLoss())
