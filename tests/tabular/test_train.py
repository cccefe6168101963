from __future__ import annotations

import pytest
import torch

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


def test_same_seed_gives_identical_weights(wisconsin):
    frame = wisconsin.frame.head(120)
    config = TrainConfig(preset="tiny", max_epochs=2, seed=3)
    first, _ = train_tabular(frame, config)
    second, _ = train_tabular(frame, config)
    for (name, a), (_, b) in zip(first.model.state_dict().items(), second.model.state_dict().items()):
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
    with pytest.raises(KeyError, match="unknown model preset 'huge'; known: default, seed, tiny."):
        TrainConfig(preset="huge")


def test_time_budget_stops_before_an_epoch_that_would_end_past_it():
    from fuseprune.tabular.train import TrainHistory, _stop_reason

    config = TrainConfig(preset="tiny", max_epochs=10, patience=10, max_minutes=1.0)  # 60 s
    history = TrainHistory(best_epoch=0)
    # after epoch e (0-based) at s seconds, one more epoch of the mean length would end at s * (e + 2) / (e + 1)
    assert _stop_reason(history, 0, config, seconds=25.0) == "running"  # next ends near 50 s
    assert _stop_reason(history, 2, config, seconds=45.0) == "running"  # 45 * 4 / 3 = 60 s: still within
    assert _stop_reason(history, 3, config, seconds=50.0) == "time_budget"  # 50 * 5 / 4 = 62.5 s
    assert _stop_reason(history, 9, config, seconds=50.0) == "max_epochs"
    assert _stop_reason(history, 3, TrainConfig(preset="tiny", max_minutes=0.0), seconds=1e6) == "running"
