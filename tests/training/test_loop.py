"""The one training loop: stop checks in one order, best weights kept, time budget mid-epoch, exact resume."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from fuseprune.config import LoopConfig
from fuseprune.training import (
    EpochShuffle,
    FolderCheckpoints,
    LoopHistory,
    RunShuffle,
    TrainingLoop,
    optimizer_step,
    stop_reason,
    weights_copy,
)
from fuseprune.training import loop as loop_module

X = torch.linspace(-1, 1, 120).reshape(40, 3)
Y = X.sum(dim=1, keepdim=True) * 0.5


def toy(seed: int = 0, dropout: float = 0.0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.Dropout(dropout), nn.Linear(4, 1))


def make_loop(model: nn.Module, config: LoopConfig, *, validate=None, shuffle=None, checkpoints=None) -> TrainingLoop:
    def step(rows, optimizer):
        loss = nn.functional.mse_loss(model(X[rows]), Y[rows])
        optimizer_step(model, loss, optimizer, max_grad_norm=1.0)
        return {"loss": loss.item(), "double": 2 * loss.item()}

    def mse() -> float:
        with torch.no_grad():
            return nn.functional.mse_loss(model.eval()(X), Y).item()

    return TrainingLoop(model, config, rows=len(X), step=step, validate=validate or mse,
                        shuffle=shuffle or RunShuffle(config.seed), checkpoints=checkpoints)


class Recorder:
    """A progress sink that records calls; raises KeyboardInterrupt after ``stop_after`` epochs."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.calls, self.epochs, self.stop_after = [], 0, stop_after

    def start(self, description, total):
        self.calls.append(("start", description, total))

    def advance(self, n=1, **info):
        self.calls.append(("advance", n, sorted(info)))
        self.epochs += n
        if n and self.stop_after is not None and self.epochs >= self.stop_after:
            raise KeyboardInterrupt

    def stop(self):
        self.calls.append(("stop",))


def test_stop_checks_run_in_the_documented_order():
    config = LoopConfig(max_epochs=10, patience=3, max_minutes=1.0)
    assert stop_reason(LoopHistory(best_epoch=2), 4, config, seconds=1.0) == "running"
    assert stop_reason(LoopHistory(best_epoch=2), 4, config, seconds=60.0) == "time_budget"
    # early stopping wins over the last epoch and the budget, the last epoch over the budget
    assert stop_reason(LoopHistory(best_epoch=6), 9, config, seconds=99.0) == "early_stopping"
    assert stop_reason(LoopHistory(best_epoch=9), 9, config, seconds=99.0) == "max_epochs"


def test_the_best_epochs_weights_are_kept_and_patience_stops_the_run():
    model = toy()
    losses, snapshots = iter([3.0, 1.0, 2.0, 4.0, 5.0]), []

    def scripted() -> float:
        snapshots.append(weights_copy(model))
        return next(losses)

    config = LoopConfig(max_epochs=20, batch_size=8, patience=2)
    history = make_loop(model, config, validate=scripted).run(LoopHistory())
    assert history.val_loss == [3.0, 1.0, 2.0, 4.0] and history.best_epoch == 1
    assert history.stopped == "early_stopping"  # epoch 3 is the second without a new best
    assert all(torch.equal(value, snapshots[1][name]) for name, value in model.state_dict().items())


def test_progress_shows_each_step_then_each_epoch():
    progress = Recorder()
    config = LoopConfig(max_epochs=2, batch_size=16, patience=5)  # 40 rows: 3 steps an epoch
    make_loop(toy(), config).run(LoopHistory(), progress, "fitting")
    assert progress.calls[0] == ("start", "fitting", 2) and progress.calls[-1] == ("stop",)
    assert progress.calls[1:5] == [("advance", 0, ["loss", "step"])] * 3 + [("advance", 1, ["val_loss"])]
    assert progress.calls[5] == ("advance", 0, ["loss", "step", "val_loss"])  # the last epoch's figures stay


def test_the_time_budget_stops_mid_epoch(monkeypatch):
    steps, readings = [], itertools.count(10.0, 10.0)  # every clock reading is 10 s after the previous one
    monkeypatch.setattr(loop_module, "time", SimpleNamespace(perf_counter=lambda: next(readings)))
    model = toy()
    loop = make_loop(model, LoopConfig(max_epochs=5, batch_size=8, max_minutes=0.5))  # 5 steps an epoch
    real = loop.step
    loop.step = lambda rows, optimizer: steps.append(1) or real(rows, optimizer)
    history = loop.run(LoopHistory())
    # the run starts at the reading 10: the 30 s budget ends at the reading of 40, after the third step
    assert len(steps) == 3 and history.stopped == "time_budget" and len(history.val_loss) == 1


def test_run_shuffle_draws_successive_permutations_of_one_generator():
    shuffle, generator = RunShuffle(7), torch.Generator().manual_seed(7)
    for epoch in range(3):
        assert torch.equal(shuffle.order(10, epoch), torch.randperm(10, generator=generator))


def test_epoch_shuffle_depends_only_on_seed_and_epoch():
    assert torch.equal(EpochShuffle(3).order(10, 4), EpochShuffle(3).order(10, 4))
    assert not torch.equal(EpochShuffle(3).order(10, 4), EpochShuffle(3).order(10, 5))


def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path):
    config = LoopConfig(max_epochs=5, batch_size=8, patience=50, learning_rate=0.05, seed=2)

    def run(checkpoints=None, progress=None) -> tuple[nn.Module, LoopHistory]:
        model = toy(dropout=0.3)  # dropout makes the reseeding matter
        loop = make_loop(model, config, shuffle=EpochShuffle(config.seed), checkpoints=checkpoints)
        with torch.random.fork_rng(devices=[]):
            return model, loop.run(LoopHistory(), progress)

    reference, full = run()
    with pytest.raises(KeyboardInterrupt):
        run(FolderCheckpoints(tmp_path / "ckpt", "run-1"), Recorder(stop_after=2))
    resumed, history = run(FolderCheckpoints(tmp_path / "ckpt", "run-1"))
    assert history.val_loss == full.val_loss and history.best_epoch == full.best_epoch
    assert all(torch.equal(value, reference.state_dict()[name]) for name, value in resumed.state_dict().items())
