"""Building one candidate: trainable steps, healing, sparsity kept through healing, int8 last."""

from __future__ import annotations

import pytest

from fuseprune.compress.sparsity import prunable_weights
from fuseprune.explore.candidate import build
from fuseprune.explore.config import ExploreConfig
from fuseprune.explore.grid import Candidate
from fuseprune.tabular import split_of


@pytest.fixture(scope="module")
def train(tiny_bundle, wisconsin):
    return split_of(tiny_bundle, wisconsin)[0]


def config(**changes):
    return ExploreConfig(**{"model": "tiny", "data": "breast-cancer-wisconsin", "heal_epochs": 1, **changes})


DEPTH = ("depth", (("remove", 1), ("strategy", "tail")))
SPARSE = ("sparsity", (("sparsity", 0.5),))


def test_healing_keeps_the_zeros_of_a_sparsity_step(tiny_bundle, train):
    bundle, plan, heal = build(config(), Candidate((DEPTH, SPARSE)), tiny_bundle, train)
    assert heal["epochs"] == 1 and plan.order == ("depth", "sparsity")
    zeroed = plan.steps[1].options["zeroed"]  # half the weights of the one layer left, counted when planned
    weights = prunable_weights(bundle.model, "all")
    assert zeroed == sum(w.numel() for w in weights.values()) // 2
    assert sum(int((w == 0).sum()) for w in weights.values()) >= zeroed  # distillation filled none back in


def test_int8_comes_after_healing_and_the_whole_plan_is_recorded(tiny_bundle, train):
    bundle, plan, heal = build(config(), Candidate((DEPTH, ("int8", ()))), tiny_bundle, train)
    assert heal["epochs"] == 1
    assert plan.order == ("depth", "int8")
    assert bundle.info["compression"]["order"] == ["depth", "int8"]
    assert bundle.model.config.n_layer == 1
    assert tiny_bundle.model.config.n_layer == 2  # the teacher is untouched


def test_nothing_to_heal_without_a_trainable_step_or_with_healing_off(tiny_bundle, train):
    _, _, heal = build(config(), Candidate((("int8", ()),)), tiny_bundle, train)
    assert heal == {"epochs": 0, "seconds": 0.0, "note": "no trainable step"}
    _, _, heal = build(config(heal_epochs=0), Candidate((DEPTH,)), tiny_bundle, train)
    assert heal["epochs"] == 0 and heal["note"] == "healing off (--heal-epochs 0)"
