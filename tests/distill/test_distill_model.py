"""distill_model, the engine's distiller: a plain GPT-2 (no codec, no app) on token rows."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from fuseprune.distill import DistillationLoss, DistillConfig, distill_model


def mean_nll(model: nn.Module, ids: torch.Tensor) -> float:
    """Mean next-token NLL per row (nats), unmasked."""
    with torch.no_grad():
        logits = model.eval()(input_ids=ids).logits[:, :-1]
        logp = torch.log_softmax(logits, dim=-1).gather(-1, ids[:, 1:, None]).squeeze(-1)
    return float(-logp.sum(dim=1).mean())


def test_a_plain_causal_lm_is_distilled_on_token_rows(make_gpt2, prune_model, state_of):
    teacher = make_gpt2(n_layer=3)
    student = prune_model(teacher, [0, 2])
    before_teacher, before_student = state_of(teacher), state_of(student)
    ids = torch.randint(1, 40, (48, 12), generator=torch.Generator().manual_seed(0))
    config = DistillConfig(max_epochs=4, batch_size=8, learning_rate=3e-3, alpha=1.0, patience=50)
    result, history = distill_model(student, teacher, ids[:40], ids[40:], DistillationLoss(config), nll=mean_nll)
    assert len(history.val_loss) == len(history.kl) == 4 and history.stopped == "max_epochs"
    assert history.kl[-1] < history.kl[0]  # alpha 1: the student moves towards the teacher's distribution
    assert history.teacher_val_loss == pytest.approx(mean_nll(teacher, ids[40:]))
    assert mean_nll(result, ids[40:]) == pytest.approx(min(history.val_loss))  # the best epoch's weights
    assert state_of(teacher) == before_teacher and state_of(student) == before_student
    assert result is not student and not result.training
