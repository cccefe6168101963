"""DistillationLoss and DistillConfig: hand-checked values, masks without NaN, alignment, refusals."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from fuseprune.distill import (
    HIDDEN_LOSSES,
    DistillationLoss,
    DistillConfig,
    check_layer_map,
    token_kl,
)
from fuseprune.errors import ConfigError, ModelError, UnknownNameError

NEG_INF = float("-inf")


def loss_of(alpha: float = 0.5, temperature: float = 1.0, **fields: object) -> DistillationLoss:
    return DistillationLoss(DistillConfig(alpha=alpha, temperature=temperature, **fields))  # type: ignore[arg-type]


# --- config ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"temperature": -1}, "`temperature` must be greater than 0; got -1."),
        ({"temperature": 0.0}, "`temperature` must be greater than 0; got 0."),
        ({"alpha": 1.5}, "`alpha` must be at least 0.0 and at most 1.0; got 1.5."),
        ({"alpha": -0.1}, "`alpha` must be at least 0.0 and at most 1.0; got -0.1."),
        ({"hidden_weight": -1.0}, "`hidden_weight` must be at least 0.0; got -1.0."),
        ({"batch_size": 0}, "`batch_size` must be at least 1 and at most 1000000; got 0."),
    ],
)
def test_config_rejects_out_of_range_values(fields: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        DistillConfig(**fields)
    assert str(info.value) == message


def test_config_round_trips_and_rejects_unknown_names() -> None:
    config = DistillConfig(alpha=0.9, temperature=3.0, hidden_weight=0.2, hidden_loss="cosine")
    assert DistillConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="unknown DistillConfig field"):
        DistillConfig.from_dict({"alpah": 0.1})
    with pytest.raises(UnknownNameError, match="known: cosine, mse"):
        DistillConfig(hidden_loss="l1")
    assert "softmax temperature" in DistillConfig.help_of("temperature")


# --- KL and CE ---------------------------------------------------------------------------------------


def test_identical_logits_with_alpha_one_give_zero() -> None:
    logits = torch.randn(3, 5, 7)
    parts = loss_of(alpha=1.0, temperature=2.0)(logits, logits.clone(), torch.randint(0, 7, (3, 5)))
    assert float(parts.total) == pytest.approx(0.0, abs=1e-6)
    assert float(parts.kl) == pytest.approx(0.0, abs=1e-6)
    assert float(parts.ce) > 0  # reported even though its weight is 0


def test_alpha_zero_is_the_plain_cross_entropy() -> None:
    student, teacher = torch.randn(2, 4, 6), torch.randn(2, 4, 6)
    targets = torch.randint(0, 6, (2, 4))
    parts = loss_of(alpha=0.0, temperature=3.0)(student, teacher, targets)
    expected = F.cross_entropy(student.reshape(-1, 6), targets.reshape(-1))
    assert float(parts.total) == pytest.approx(float(expected), rel=1e-6)
    assert float(parts.ce) == pytest.approx(float(expected), rel=1e-6)


def test_one_position_three_tokens_by_hand_at_temperature_two() -> None:
    # Teacher logits (2 ln 3, 0, 0) / T=2 -> (ln 3, 0, 0) -> p = (3/5, 1/5, 1/5).
    # Student logits (0, 0, 0) -> q = (1/3, 1/3, 1/3).
    # KL(p || q) = 3/5 ln((3/5)/(1/3)) + 2 * 1/5 ln((1/5)/(1/3))
    #            = 0.6 ln 1.8 + 0.4 ln 0.6 = 0.6 * 0.5877867 - 0.4 * 0.5108256 = 0.1483418
    # With alpha = 1 the loss is T^2 * KL = 4 * 0.1483418 = 0.5933671.
    teacher = torch.tensor([[[2 * math.log(3), 0.0, 0.0]]])
    student = torch.zeros(1, 1, 3)
    parts = loss_of(alpha=1.0, temperature=2.0)(student, teacher, torch.tensor([[0]])).to_floats()
    assert parts["kl"] == pytest.approx(0.6 * math.log(1.8) + 0.4 * math.log(0.6), rel=1e-5)  # float32
    assert parts["kl"] == pytest.approx(0.1483418, rel=1e-5)
    assert parts["total"] == pytest.approx(0.5933671, rel=1e-5)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0, 4.0])
def test_kl_term_is_scaled_by_temperature_squared(temperature: float) -> None:
    # Logits scaled by T give the same distributions at temperature T as the originals at 1,
    # so the KL part is unchanged and the total grows exactly by T^2.
    student, teacher = torch.randn(2, 3, 5), torch.randn(2, 3, 5)
    targets = torch.zeros(2, 3, dtype=torch.long)
    base = loss_of(alpha=1.0, temperature=1.0)(student, teacher, targets)
    scaled = loss_of(alpha=1.0, temperature=temperature)(student * temperature, teacher * temperature, targets)
    assert float(scaled.kl) == pytest.approx(float(base.kl), rel=1e-5)
    assert float(scaled.total) == pytest.approx(temperature**2 * float(base.total), rel=1e-5)


def test_mixed_total_is_the_weighted_sum_of_its_parts() -> None:
    student, teacher, targets = torch.randn(2, 3, 5), torch.randn(2, 3, 5), torch.randint(0, 5, (2, 3))
    parts = loss_of(alpha=0.3, temperature=2.0)(student, teacher, targets)
    assert float(parts.total) == pytest.approx(0.3 * 4 * float(parts.kl) + 0.7 * float(parts.ce), rel=1e-6)


def test_masked_tokens_are_left_out_of_both_distributions() -> None:
    # Token 2 is masked; huge logits there must not matter. On tokens {0, 1}:
    # teacher logits (ln 3, 0) -> p = (3/4, 1/4); student (0, 0) -> q = (1/2, 1/2);
    # KL = 3/4 ln(3/2) + 1/4 ln(1/2) = 0.3041029 - 0.1732868 = 0.1308161.
    teacher = torch.tensor([[[math.log(3), 0.0, 50.0]]])
    student = torch.tensor([[[0.0, 0.0, -80.0]]], requires_grad=True)
    bias = torch.tensor([[[0.0, 0.0, NEG_INF]]])
    parts = loss_of(alpha=0.5, temperature=1.0)(student, teacher, torch.tensor([[1]]), logit_bias=bias)
    values = parts.to_floats()
    assert values["kl"] == pytest.approx(0.75 * math.log(1.5) + 0.25 * math.log(0.5), rel=1e-5)
    assert values["ce"] == pytest.approx(math.log(2), rel=1e-5)
    parts.total.backward()
    assert torch.isfinite(student.grad).all() and float(student.grad[0, 0, 2]) == 0.0


def test_ignored_positions_and_fully_masked_positions_give_no_nan() -> None:
    student = torch.randn(2, 3, 4, requires_grad=True)
    teacher = torch.randn(2, 3, 4)
    bias = torch.zeros(2, 3, 4)
    bias[:, :, 3] = NEG_INF
    bias[1, 2, :] = NEG_INF  # nothing allowed at all here
    targets = torch.tensor([[0, 1, -100], [3, 0, -100]])  # target 3 is masked but the position is ignored below
    targets[1, 0] = -100
    parts = loss_of(alpha=0.5, temperature=2.0)(student, teacher, targets, logit_bias=bias)
    parts.total.backward()
    assert all(math.isfinite(v) for v in parts.to_floats().values())
    assert torch.isfinite(student.grad).all()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    temperature=st.floats(0.1, 10.0),
    masked=st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_masked_kl_is_finite_and_non_negative(seed: int, temperature: float, masked: list[bool]) -> None:
    generator = torch.Generator().manual_seed(seed)
    student = (10 * torch.randn(3, 6, generator=generator)).requires_grad_()
    teacher = 10 * torch.randn(3, 6, generator=generator)
    bias = torch.zeros(6).masked_fill(torch.tensor(masked), NEG_INF)
    kl = token_kl(student, teacher, temperature, bias)
    kl.sum().backward()
    assert torch.isfinite(kl).all() and (kl >= -1e-5).all()
    assert torch.isfinite(student.grad).all()


# --- hidden alignment --------------------------------------------------------------------------------


def test_cosine_alignment_is_zero_for_same_one_for_orthogonal_two_for_opposite() -> None:
    cosine, weights = HIDDEN_LOSSES.get("cosine"), torch.ones(1, 1)
    state = torch.tensor([[[1.0, 2.0, -1.0]]])
    assert float(cosine(state, state.clone(), weights)) == pytest.approx(0.0, abs=1e-6)
    assert float(cosine(state, 3 * state, weights)) == pytest.approx(0.0, abs=1e-6)  # scale does not matter
    assert float(cosine(state, -state, weights)) == pytest.approx(2.0)
    assert float(cosine(torch.tensor([[[1.0, 0.0]]]), torch.tensor([[[0.0, 5.0]]]), weights)) == pytest.approx(1.0)


def test_mse_alignment_by_hand_and_position_weights() -> None:
    mse = HIDDEN_LOSSES.get("mse")
    student = torch.tensor([[[1.0, 2.0], [9.0, 9.0]]])
    teacher = torch.zeros(1, 2, 2)
    assert float(mse(student, teacher, torch.tensor([[1.0, 0.0]]))) == pytest.approx((1 + 4) / 2)  # 2nd ignored
    assert float(mse(student, teacher, torch.ones(1, 2))) == pytest.approx((2.5 + 81) / 2)


@pytest.mark.parametrize(("layer_map", "expected"), [([1, 2], 0.0), ([0, 2], 0.5)])
def test_hidden_term_pairs_each_student_layer_with_its_teacher_layer(layer_map: list[int], expected: float) -> None:
    # Teacher layers output a, b, c; the student's outputs are b and c, so map [1, 2] aligns exactly and
    # map [0, 2] pairs b with a: MSE (1 - 0)^2 = 1 for that layer, 0 for the other -> mean 0.5.
    a, b, c = torch.zeros(1, 2, 4), torch.ones(1, 2, 4), torch.full((1, 2, 4), 3.0)
    loss = DistillationLoss(DistillConfig(alpha=1.0, hidden_weight=2.0), layer_map=layer_map)
    logits = torch.zeros(1, 2, 5)
    parts = loss(logits, logits, torch.zeros(1, 2, dtype=torch.long), student_hidden=[b, c], teacher_hidden=[a, b, c])
    assert float(parts.hidden) == pytest.approx(expected)
    assert float(parts.total) == pytest.approx(2.0 * expected)


def test_hidden_alignment_without_a_layer_map_is_refused() -> None:
    with pytest.raises(ModelError, match="hidden-state alignment needs the layer map"):
        DistillationLoss(DistillConfig(hidden_weight=0.1))


@pytest.mark.parametrize(
    ("layer_map", "message"),
    [
        ([0], "`layer_map` must hold one teacher layer per student layer (2); got 1."),
        ([0, 3], "`layer_map` indices must be between 0 and 2; got [3]."),
        ([-1, 2], "`layer_map` indices must be between 0 and 2; got [-1]."),
        ([2, 1], "`layer_map` must be strictly increasing (a pruned copy keeps the order); got [2, 1]."),
        ([1, 1], "`layer_map` must be strictly increasing (a pruned copy keeps the order); got [1, 1]."),
    ],
)
def test_layer_maps_that_do_not_describe_a_pruned_copy_are_refused(layer_map: list[int], message: str) -> None:
    with pytest.raises(ModelError) as info:
        check_layer_map(layer_map, num_student_layers=2, num_teacher_layers=3)
    assert str(info.value) == message


def test_check_models_refuses_different_widths_and_accepts_a_pruned_copy(make_gpt2, prune_model) -> None:
    teacher = make_gpt2(n_layer=3)
    loss = DistillationLoss(DistillConfig(hidden_weight=1.0), layer_map=[0, 2])
    loss.check_models(prune_model(teacher, [0, 2]), teacher)
    with pytest.raises(ModelError, match="hidden sizes differ"):
        loss.check_models(make_gpt2(n_layer=2, n_embd=8), teacher)
    with pytest.raises(ModelError, match="one teacher layer per student layer"):
        loss.check_models(prune_model(teacher, [0]), teacher)
