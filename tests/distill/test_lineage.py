"""Distillation refuses a student that is not smaller than its teacher or that was pruned from another model."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fuseprune.distill import DistillConfig
from fuseprune.distill.lineage import check_smaller, teacher_layer_map
from fuseprune.errors import ModelError
from fuseprune.tabular import (
    ModelPreset,
    TabularGPT,
    build_model,
    distill_tabular,
    make_tabular_plan,
    prune_tabular,
)

THREE = ModelPreset("three", 3, 2, 32, 0.0, "a 3-layer teacher, so it can be pruned twice")


def prune(bundle: TabularGPT, frame, layer: int) -> TabularGPT:
    """``bundle`` with its current layer ``layer`` removed by a real plan (which records the pruning)."""
    plan = make_tabular_plan(bundle, frame, "random", remove=1, seed=0, n_rows=16)
    return prune_tabular(bundle, replace(plan, removal_order=(layer,)))  # the layer the test wants, not random's


@pytest.fixture
def three(tiny_bundle):
    return TabularGPT(build_model(tiny_bundle.codec, THREE, seed=0), tiny_bundle.codec, {})


def test_the_layer_map_follows_the_pruning_records_up_the_chain(three, wisconsin):
    frame = wisconsin.frame.head(64)
    middle = prune(three, frame, 0)  # keeps teacher layers 1, 2
    student = prune(middle, frame, 1)  # keeps middle layer 0 = teacher layer 1
    assert teacher_layer_map(middle.info, three.model) == [1, 2]
    assert teacher_layer_map(student.info, middle.model) == [0]
    assert teacher_layer_map(student.info, three.model) == [1]
    assert teacher_layer_map({}, three.model) is None  # a student that records no pruning is not judged


def test_a_student_pruned_from_another_teacher_is_refused(tiny_bundle, wisconsin):
    frame = wisconsin.frame.head(64)
    student = prune(tiny_bundle, frame, 1)
    other = TabularGPT(build_model(tiny_bundle.codec, "tiny", seed=1), tiny_bundle.codec, {})
    with pytest.raises(ModelError, match="the student was pruned from another model \\(2 layers, weights "):
        distill_tabular(student, other, frame, DistillConfig(max_epochs=1))
    damaged = TabularGPT(student.model, student.codec, {"pruning": {"kept_layers": "0"}})
    with pytest.raises(ModelError, match="holds a damaged `pruning` record"):
        distill_tabular(damaged, tiny_bundle, frame, DistillConfig(max_epochs=1))


def test_a_student_as_deep_as_or_larger_than_its_teacher_is_refused(tiny_bundle, three, wisconsin):
    with pytest.raises(ModelError, match="the student has 2 layers and the teacher 2"):
        distill_tabular(tiny_bundle, tiny_bundle, wisconsin.frame.head(64), DistillConfig(max_epochs=1))
    with pytest.raises(ModelError, match="the student has 3 layers and the teacher 2"):
        check_smaller(three.model, tiny_bundle.model)
    wide = build_model(tiny_bundle.codec, ModelPreset("wide", 1, 2, 64, 0.0, "wider than tiny"))
    with pytest.raises(ModelError, match="the student has more parameters"):
        check_smaller(wide, tiny_bundle.model)


def test_a_student_as_deep_as_its_teacher_but_sparser_is_accepted(tiny_bundle):
    import copy

    import torch

    sparse = copy.deepcopy(tiny_bundle.model)
    with torch.no_grad():
        sparse.transformer.h[0].mlp.c_fc.weight[0, 0] = 0.0  # one weight fewer: a compressed student
    check_smaller(sparse, tiny_bundle.model)
