"""Building one candidate: trainable steps, healing, sparsity kept through healing, int8 last."""

from __future__ import annotations

import pytest
import torch

from fuseprune.compress import apply_plan
from fuseprune.compress.sparsity import prunable_weights
from fuseprune.explore import candidate
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
    assert heal["epochs"] == 1 and heal["val_loss"] < heal["unhealed_val_loss"]  # kept because it helped
    assert plan.order == ("depth", "int8")
    assert bundle.info["compression"]["order"] == ["depth", "int8"]
    assert bundle.model.config.n_layer == 1
    assert tiny_bundle.model.config.n_layer == 2  # the teacher is untouched


def test_nothing_to_heal_without_a_trainable_step_or_with_healing_off(tiny_bundle, train):
    _, _, heal = build(config(), Candidate((("int8", ()),)), tiny_bundle, train)
    assert heal == {"epochs": 0, "seconds": 0.0, "note": "no trainable step"}
    _, _, heal = build(config(heal_epochs=0), Candidate((DEPTH,)), tiny_bundle, train)
    assert heal["epochs"] == 0 and heal["note"] == "healing off (--heal-epochs 0)"


def test_a_healing_that_raises_the_validation_loss_is_not_kept(tiny_bundle, train, monkeypatch):
    losses = iter([1.0, 1.5])  # the unhealed model's validation loss, then the healed one's
    monkeypatch.setattr(candidate, "validation_nll", lambda *args: next(losses))
    bundle, plan, heal = build(config(), Candidate((DEPTH,)), tiny_bundle, train)
    assert heal["epochs"] == 0 and heal["epochs_run"] == 1
    assert heal["note"] == ("healing raised the validation loss (1.0000 -> 1.5000 nats per row); kept the unhealed "
                            "model")
    unhealed = apply_plan(tiny_bundle, plan)  # the same layer removed, never distilled
    for name, value in unhealed.model.state_dict().items():
        assert torch.equal(bundle.model.state_dict()[name], value), name


def test_speed_rows_zero_times_one_full_batch(tiny_bundle, monkeypatch):
    calls = []
    monkeypatch.setattr(candidate, "sample_ids", lambda model, codec, rows, seed, batch_size: calls.append(
        (rows, batch_size)))
    runs = candidate.timed_runs(config(speed_rows=0, speed_repeats=2), [tiny_bundle], batch=8)
    assert calls == [(8, 8), (8, 8), (8, 8)]  # the warm-up, then two timed runs of one batch each
    assert len(runs[0]) == 2
    calls.clear()
    candidate.timed_runs(config(speed_rows=20, speed_repeats=1), [tiny_bundle], batch=8)
    assert calls == [(8, 8), (20, 8)]  # the warm-up is one batch at most
