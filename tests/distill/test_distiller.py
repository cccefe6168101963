"""distill_tabular: improves the pruned student, never touches the teacher, resumes exactly, refuses misfits."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from fuseprune.data.table import split_frame
from fuseprune.distill import DistillConfig, DistillHistory
from fuseprune.errors import ModelError
from fuseprune.tabular import PRESETS, ModelPreset, TableCodec, TabularGPT, build_model, distill_tabular, mean_row_nll
from fuseprune.training.loop import stop_reason as _stop_reason

FAST = {"batch_size": 64, "learning_rate": 3e-3, "warmup_fraction": 0.1, "patience": 50}


class StopAfter:
    """A progress sink that records calls and raises KeyboardInterrupt after ``epochs`` epochs."""

    def __init__(self, epochs: int | None = None) -> None:
        self.epochs, self.calls, self.done = epochs, [], 0

    def start(self, description: str, total: int | None) -> None:
        self.calls.append(("start", description, total))

    def advance(self, n: int = 1, **info: object) -> None:
        self.calls.append(("advance", n, sorted(info)))
        self.done += n
        if self.epochs is not None and n and self.done >= self.epochs:
            raise KeyboardInterrupt

    def stop(self) -> None:
        self.calls.append(("stop",))


@pytest.fixture
def train_rows(wisconsin):
    return wisconsin.frame.iloc[:320]


def test_distillation_improves_the_student_and_touches_neither_input(tiny_bundle, pruned, train_rows, state_of):
    student = pruned(tiny_bundle, [0])
    teacher_before, student_before = state_of(tiny_bundle.model), state_of(student.model)
    _, val_rows = split_frame(train_rows, 0.1, 0)
    val_ids = student.codec.encode(val_rows)
    start_nll = mean_row_nll(student.model, val_ids, student.codec)
    progress = StopAfter()
    result, history = distill_tabular(student, tiny_bundle, train_rows, DistillConfig(max_epochs=4, **FAST),
                                      progress=progress)
    assert len(history.val_loss) == len(history.kl) == 4 and history.stopped == "max_epochs"
    assert history.best_epoch == min(range(4), key=history.val_loss.__getitem__)
    assert mean_row_nll(result.model, val_ids, result.codec) == pytest.approx(min(history.val_loss))
    assert min(history.val_loss) < start_nll
    assert history.teacher_val_loss == pytest.approx(mean_row_nll(tiny_bundle.model, val_ids, tiny_bundle.codec))
    assert history.total[-1] < history.total[0]
    assert state_of(tiny_bundle.model) == teacher_before and state_of(student.model) == student_before
    assert result.model is not student.model and not result.model.training
    assert result.info["distill"]["history"]["val_loss"] == history.val_loss
    assert progress.calls[0] == ("start", "distilling", 4) and progress.calls[-1] == ("stop",)
    assert ("advance", 1, ["kl", "val_loss"]) in progress.calls
    json.dumps(result.info)


def test_interrupted_run_resumes_to_the_same_weights(tiny_bundle, pruned, train_rows, state_of, tmp_path):
    config = DistillConfig(max_epochs=5, hidden_weight=0.2, **FAST)
    student = pruned(tiny_bundle, [1], dropout=0.1)  # dropout makes the RNG handling matter
    reference, full = distill_tabular(student, tiny_bundle, train_rows, config, layer_map=[1])
    folder = tmp_path / "ckpt"
    with pytest.raises(KeyboardInterrupt):
        distill_tabular(student, tiny_bundle, train_rows, config, layer_map=[1], checkpoint_dir=folder,
                        progress=StopAfter(2))
    assert sorted(os.listdir(folder)) == [".fuseprune", "best.safetensors", "optimizer.safetensors", "state.json",
                                          "student.safetensors"]
    assert json.loads((folder / "state.json").read_text())["epochs_done"] == 2
    resumed, history = distill_tabular(student, tiny_bundle, train_rows, config, layer_map=[1], checkpoint_dir=folder)
    assert history.resumed_at == [2]
    assert history.val_loss == full.val_loss and history.kl == full.kl and history.best_epoch == full.best_epoch
    assert state_of(resumed.model) == state_of(reference.model)
    again, finished = distill_tabular(student, tiny_bundle, train_rows, config, layer_map=[1], checkpoint_dir=folder)
    assert finished.resumed_at == [2, 5] and finished.val_loss == full.val_loss
    assert state_of(again.model) == state_of(reference.model)


def test_checkpoint_of_another_config_is_ignored(tiny_bundle, pruned, train_rows, tmp_path, caplog):
    student, folder = pruned(tiny_bundle, [0]), tmp_path / "ckpt"
    distill_tabular(student, tiny_bundle, train_rows, DistillConfig(max_epochs=1, **FAST), checkpoint_dir=folder)
    with caplog.at_level(logging.WARNING, logger="fuseprune.training.checkpoint"):
        _, history = distill_tabular(student, tiny_bundle, train_rows, DistillConfig(max_epochs=2, alpha=0.9, **FAST),
                                     checkpoint_dir=folder)
    assert history.resumed_at == [] and len(history.val_loss) == 2
    assert "belongs to another run" in caplog.text


def test_hidden_alignment_is_trained_through_the_layer_map(tiny_bundle, pruned, train_rows):
    config = DistillConfig(max_epochs=2, hidden_weight=1.0, hidden_loss="cosine", **FAST)
    _, history = distill_tabular(pruned(tiny_bundle, [1]), tiny_bundle, train_rows, config, layer_map=[1])
    assert all(0 < h < 2 for h in history.hidden)


def test_teacher_with_another_codec_is_refused(tiny_bundle, pruned, wisconsin):
    student = pruned(tiny_bundle, [0])
    other = TabularGPT(student.model, TableCodec.fit(wisconsin.frame.iloc[:40], wisconsin.kinds))
    with pytest.raises(ModelError, match="the teacher's codec differs from the student's"):
        distill_tabular(other, tiny_bundle, wisconsin.frame, DistillConfig(max_epochs=1))


@pytest.mark.parametrize(
    ("kept", "layer_map", "hidden_weight", "message"),
    [
        ([0], None, 0.5, "hidden-state alignment needs the layer map"),
        ([0], [0, 1], 0.5, "one teacher layer per student layer"),
        ([0], [2], 0.0, "indices must be between 0 and 1"),
        ([0, 1], [1, 0], 0.5, "must be strictly increasing"),
    ],
)
def test_layer_maps_that_do_not_fit_are_refused(tiny_bundle, pruned, wisconsin, kept, layer_map, hidden_weight,
                                                message):
    config = DistillConfig(max_epochs=1, hidden_weight=hidden_weight)
    with pytest.raises(ModelError, match=message):
        distill_tabular(pruned(tiny_bundle, kept), tiny_bundle, wisconsin.frame, config, layer_map=layer_map)


def test_student_of_another_width_is_refused(tiny_bundle, wisconsin):
    tiny = PRESETS.get("tiny")
    narrow = ModelPreset("narrow", 1, tiny.n_head, tiny.n_embd // 2, 0.0, "test")
    student = TabularGPT(build_model(tiny_bundle.codec, narrow), tiny_bundle.codec)
    with pytest.raises(ModelError, match=r"hidden sizes differ \(16 vs 32\)"):
        distill_tabular(student, tiny_bundle, wisconsin.frame, DistillConfig(hidden_weight=1.0), layer_map=[1])


def test_stop_reasons_by_hand() -> None:
    config = DistillConfig(max_epochs=10, patience=3, max_minutes=1.0)
    history = DistillHistory(best_epoch=2)
    assert _stop_reason(history, 4, config, seconds=1.0) == "running"
    assert _stop_reason(history, 5, config, seconds=1.0) == "early_stopping"  # 3 epochs without improvement
    assert _stop_reason(history, 4, config, seconds=61.0) == "time_budget"
    assert _stop_reason(DistillHistory(best_epoch=9), 9, config, seconds=61.0) == "max_epochs"


SCRIPT = """
import os, signal, sys, torch
torch.set_num_threads(1)
sys.path.insert(0, {tests!r})
from conftest import prune_bundle
from fuseprune.distill import DistillConfig
from fuseprune.tabular import TabularGPT, distill_tabular
from fuseprune.data import load_table

class KillAfter:
    def start(self, description, total): self.done = 0
    def advance(self, n=1, **info):
        self.done += n
        if n and self.done >= {kill_after}:
            os.kill(os.getpid(), signal.SIGKILL)
    def stop(self): pass

teacher = TabularGPT.load({teacher!r})
rows = load_table('breast-cancer-wisconsin').frame.iloc[:320]
config = DistillConfig.from_dict({config!r})
student, _ = distill_tabular(prune_bundle(teacher, [1]), teacher, rows, config, layer_map=[1],
                             checkpoint_dir={ckpt!r}, progress=KillAfter())
student.save({out!r})
"""


@pytest.mark.slow
def test_killed_process_resumes_to_the_same_weights(tiny_bundle, pruned, train_rows, tmp_path, state_of):
    config = DistillConfig(max_epochs=4, **FAST)
    tiny_bundle.save(tmp_path / "teacher")
    paths = {"tests": os.path.dirname(__file__), "teacher": str(tmp_path / "teacher"),
             "config": config.to_dict(), "ckpt": str(tmp_path / "ckpt"), "out": str(tmp_path / "out")}
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    killed = subprocess.run([sys.executable, "-c", textwrap.dedent(SCRIPT.format(kill_after=2, **paths))], env=env)
    assert killed.returncode == -signal.SIGKILL
    assert json.loads((tmp_path / "ckpt" / "state.json").read_text())["epochs_done"] == 2
    finished = subprocess.run([sys.executable, "-c", textwrap.dedent(SCRIPT.format(kill_after=99, **paths))], env=env)
    assert finished.returncode == 0
    teacher = TabularGPT.load(tmp_path / "teacher")
    reference, _ = distill_tabular(pruned(teacher, [1]), teacher, train_rows, config, layer_map=[1])
    distilled = TabularGPT.load(tmp_path / "out")
    assert distilled.info["distill"]["history"]["resumed_at"] == [2]
    assert state_of(distilled.model) == state_of(reference.model)


def test_the_time_budget_stops_inside_an_epoch(tiny_bundle, pruned, train_rows, monkeypatch):
    from fuseprune.distill import distiller
    from fuseprune.training import loop

    class Clock:  # every reading is 10 s after the previous one
        now = 0.0

        def perf_counter(self) -> float:
            self.now += 10.0
            return self.now

    steps = []
    real_step = distiller.distill_step
    monkeypatch.setattr(distiller, "distill_step", lambda *a, **k: steps.append(1) or real_step(*a, **k))
    monkeypatch.setattr(loop, "time", Clock())
    config = DistillConfig(max_epochs=5, max_minutes=0.5, **FAST)  # 288 fitting rows: 5 steps of 64 per epoch
    _, history = distill_tabular(pruned(tiny_bundle, [1]), tiny_bundle, train_rows, config)
    # the session starts at the reading 10: the 30 s budget ends at the reading of 40, after the third step
    assert len(steps) == 3 and history.stopped == "time_budget"
    assert len(history.val_loss) == 1 and history.best_epoch == 0


def test_without_a_config_the_recipe_of_the_teachers_preset_is_used(tiny_bundle, pruned, train_rows):
    from fuseprune.presets import distill_config

    as_seed = TabularGPT(tiny_bundle.model, tiny_bundle.codec, {**tiny_bundle.info, "preset": "seed"})
    result, history = distill_tabular(pruned(as_seed, [0]), as_seed, train_rows)
    assert result.info["distill"]["config"] == distill_config("seed").to_dict()
    assert len(history.val_loss) <= 10  # the seed recipe's max_epochs, not DistillConfig's 50
    result, _ = distill_tabular(pruned(tiny_bundle, [0]), tiny_bundle, train_rows.iloc[:64])
    assert result.info["distill"]["config"] == DistillConfig().to_dict()
