"""Presets carry their training and distillation recipes; configs take every unset loop setting from them."""

from __future__ import annotations

import json

import pytest
from transformers import GPT2Config

from fuseprune.cli import main
from fuseprune.distill import DistillConfig
from fuseprune.errors import ConfigError
from fuseprune.presets import PRESETS, distill_config, preset_of
from fuseprune.tabular import TrainConfig

# The loop settings every `default` (and `tiny`) teacher has been trained with since the shipped
# fusion bank and the committed comparison were made; written out by hand so a change shows up here.
SMALL_TRAINING = {"max_epochs": 200, "batch_size": 64, "learning_rate": 1e-3, "weight_decay": 0.01,
                  "warmup_fraction": 0.02, "validation_fraction": 0.1, "patience": 10, "max_minutes": 0.0}
SMALL_DISTILLATION = {"max_epochs": 50, "batch_size": 64, "learning_rate": 5e-4, "weight_decay": 0.01,
                      "warmup_fraction": 0.02, "validation_fraction": 0.1, "patience": 5, "max_minutes": 0.0}
SEED_TRAINING = {"max_epochs": 12, "batch_size": 32, "learning_rate": 1e-4, "weight_decay": 0.1,
                 "warmup_fraction": 0.1, "validation_fraction": 0.1, "patience": 4, "max_minutes": 15.0}
SEED_DISTILLATION = {"max_epochs": 10, "batch_size": 32, "learning_rate": 1e-4, "weight_decay": 0.1,
                     "warmup_fraction": 0.1, "validation_fraction": 0.1, "patience": 3, "max_minutes": 5.0}


def loop_fields(config) -> dict:
    values = config if isinstance(config, dict) else config.to_dict()
    return {name: value for name, value in values.items() if name in SMALL_TRAINING}


@pytest.mark.parametrize("preset", ["default", "tiny"])
def test_default_and_tiny_train_exactly_as_before(preset):
    assert loop_fields(TrainConfig(preset=preset)) == SMALL_TRAINING
    assert TrainConfig() == TrainConfig(preset="default")
    assert loop_fields(distill_config(preset)) == SMALL_DISTILLATION
    assert distill_config(preset) == DistillConfig()


def test_seed_preset_trains_and_distils_with_its_own_recipe():
    assert loop_fields(TrainConfig(preset="seed", seed=3)) == SEED_TRAINING
    distill = distill_config("seed", seed=3)
    assert loop_fields(distill) == SEED_DISTILLATION
    assert (distill.alpha, distill.temperature, distill.hidden_weight, distill.seed) == (0.9, 1.0, 0.0, 3)
    assert (DistillConfig().alpha, DistillConfig().temperature) == (0.5, 2.0)  # the small presets' loss
    assert PRESETS.get("seed").dropout == 0.3


def test_values_given_explicitly_win_over_the_recipe():
    config = TrainConfig(preset="seed", learning_rate=3e-4, max_epochs=5, max_minutes=0.0)
    assert (config.learning_rate, config.max_epochs, config.max_minutes) == (3e-4, 5, 0.0)
    assert (config.batch_size, config.warmup_fraction, config.weight_decay) == (32, 0.1, 0.1)  # the rest: the recipe
    distill = distill_config("seed", alpha=0.6, max_epochs=2, learning_rate=None)  # None = not given
    assert (distill.alpha, distill.max_epochs, distill.learning_rate, distill.temperature) == (0.6, 2, 1e-4, 1.0)


def test_a_filled_config_round_trips_and_keeps_its_values():
    config = TrainConfig(preset="seed", patience=2)
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert None not in config.to_dict().values()


def test_explicit_values_are_still_range_checked():
    with pytest.raises(ConfigError, match="`learning_rate` must be greater than 0.0"):
        TrainConfig(preset="seed", learning_rate=0.0)
    with pytest.raises(ConfigError, match="`max_minutes` must be at least 0.0"):
        distill_config("seed", max_minutes=-1.0)


def test_the_recipe_of_a_model_is_the_one_it_records_else_the_one_of_its_width():
    seed_like = GPT2Config(n_embd=768, n_head=12, n_layer=3)
    assert preset_of(seed_like, "default").name == "default"  # what the model records wins
    assert preset_of(seed_like).name == "seed"  # e.g. an imported or pruned 768-wide model
    assert preset_of(GPT2Config(n_embd=96, n_head=3)).name == "default"
    assert preset_of(GPT2Config(n_embd=96, n_head=3), "no-such-preset").name == "default"


def test_help_of_train_run_and_distill_shows_each_preset_recipe(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert (
        "peak AdamW learning rate (default: the preset's training recipe: "
        "deep 0.001, default 0.001, seed 0.0001, tiny 0.001)"
        in text
    )
    assert "seed 12, tiny 200" in text and "deep 0, default 0, seed 15, tiny 0" in text
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "seed: 6 layers x 768, 12 heads, dropout 0.3; trains at most 12 epochs, at most 15 min, lr 0.0001" in text
    assert "distils at most 10 epochs, at most 5 min, lr 0.0001" in text
    assert "patience 3, alpha 0.9, temperature 1" in text
    with pytest.raises(SystemExit):
        main(["distill", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: the preset's distillation recipe: deep 0.5, default 0.5, seed 0.9, tiny 0.5)" in text


def test_train_command_records_the_recipe_with_the_values_given(capsys, tmp_path):
    code = main(["train", "--preset", "tiny", "--max-epochs", "1", "--learning-rate", "0.004",
                 "--out", str(tmp_path / "m"), "--json"])
    assert code == 0
    capsys.readouterr()
    recorded = json.loads((tmp_path / "m" / "fuseprune.json").read_text())["train_config"]
    assert loop_fields(recorded) == {**SMALL_TRAINING, "max_epochs": 1, "learning_rate": 0.004}


def test_deep_preset_is_twelve_narrow_layers_trained_like_the_small_models():
    deep = PRESETS.get("deep")
    assert (deep.n_layer, deep.n_head, deep.n_embd) == (12, 4, 64)
    assert loop_fields(TrainConfig(preset="deep")) == SMALL_TRAINING
    assert preset_of(GPT2Config(n_embd=64, n_head=4)).name == "deep"  # e.g. a pruned deep student
