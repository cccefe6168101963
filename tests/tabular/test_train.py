from __future__ import annotations

import pytest
import torch

from fuseprune.data.table import split_frame
from fuseprune.errors import ConfigError
from fuseprune.tabular import TrainConfig, mean_row_nll, train_tabular
from fuseprune.tabular.model import build_model


def test_training_lowers_validation_loss_and_records_history(tiny_bundle, wisconsin):
    history = tiny_bundle.info["history"]
    assert len(history["val_loss"]) == 3
    best = min(history["val_loss"])
    assert history["val_loss"][history["best_epoch"]] == best
    # the untrained network on the same rows is much worse than the trained one
    train, holdout = wisconsin.split()
    ids = tiny_bundle.codec.encode(holdout)
    untrained = mean_row_nll(build_model(tiny_bundle.codec, "tiny", seed=0), ids, tiny_bundle.codec)
    assert mean_row_nll(tiny_bundle.model, ids, tiny_bundle.codec) < untrained - 2.0


def test_training_leaves_the_callers_rng_alone(wisconsin):
    torch.manual_seed(5)
    before = torch.get_rng_state()
    train_tabular(wisconsin.frame.head(60), TrainConfig(preset="tiny", max_epochs=1, seed=1))
    assert torch.equal(torch.get_rng_state(), before)


def test_same_seed_gives_identical_weights(wisconsin):
    frame = wisconsin.frame.head(120)
    config = TrainConfig(preset="tiny", max_epochs=2, seed=3)
    first, _ = train_tabular(frame, config)
    second, _ = train_tabular(frame, config)
    for (name, a), (_, b) in zip(first.model.state_dict().items(), second.model.state_dict().items(), strict=True):
        assert torch.equal(a, b), name


def test_early_stopping_stops_after_patience_epochs_without_improvement(wisconsin):
    # a learning rate this high makes validation loss blow up after the first epochs
    config = TrainConfig(preset="tiny", max_epochs=50, patience=2, learning_rate=0.5, seed=0)
    bundle, history = train_tabular(wisconsin.frame.head(200), config)
    assert history.stopped == "early_stopping"
    assert len(history.val_loss) == history.best_epoch + 3


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("learning_rate", 0.0, "`learning_rate` must be greater than 0.0 and at most 1.0; got 0.0."),
        ("batch_size", 0, "`batch_size` must be at least 1"),
        ("validation_fraction", 0.7, "`validation_fraction` must be greater than 0.0 and at most 0.5; got 0.7."),
        ("seed", -1, "`seed` must be an integer between 0 and 4294967295; got -1."),
        ("seed", 2**32, "`seed` must be an integer between 0 and 4294967295; got 4294967296."),
        ("max_minutes", -1.0, "`max_minutes` must be at least 0.0; got -1.0."),
        ("max_minutes", float("nan"), "`max_minutes` must be at least 0.0; got nan."),
    ],
)
def test_config_rejects_out_of_range_values(field, value, message):
    with pytest.raises(ConfigError) as info:
        TrainConfig(**{field: value})
    assert str(info.value).startswith(message)


def test_config_round_trips_and_rejects_unknown_keys():
    config = TrainConfig(preset="tiny", seed=4)
    assert TrainConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="unknown TrainConfig field"):
        TrainConfig.from_dict({"presett": "tiny"})
    with pytest.raises(KeyError, match="unknown model preset 'huge'; known: deep, default, seed, tiny."):
        TrainConfig(preset="huge")


class FakeClock:
    """``time`` stand-in whose clock moves ``tick`` seconds at every reading."""

    def __init__(self, tick: float) -> None:
        self.now, self.tick = 0.0, tick

    def perf_counter(self) -> float:
        self.now += self.tick
        return self.now


def test_the_time_budget_stops_inside_an_epoch_keeping_the_best_weights(wisconsin, monkeypatch):
    from fuseprune.tabular import train as train_module
    from fuseprune.training import loop

    steps = []
    real_nll = train_module.masked_token_nll
    monkeypatch.setattr(train_module, "masked_token_nll", lambda *a: steps.append(1) or real_nll(*a))
    # every clock reading is 10 s later: the start reads 10, so the 30 s budget ends at the reading of 40,
    # the one after the third step
    monkeypatch.setattr(loop, "time", FakeClock(10.0))
    frame = wisconsin.frame.head(400)  # 360 fitting rows: 6 steps of 64 per epoch
    config = TrainConfig(preset="tiny", max_epochs=5, max_minutes=0.5, seed=0)
    bundle, history = train_tabular(frame, config)
    assert len(steps) == 3 and history.stopped == "time_budget"
    assert len(history.val_loss) == 1 and history.best_epoch == 0
    _, val_rows = split_frame(frame, config.validation_fraction, config.seed)
    assert mean_row_nll(bundle.model, bundle.codec.encode(val_rows), bundle.codec) == pytest.approx(history.val_loss[0])
