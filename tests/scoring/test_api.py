"""score_layers: names, bad input, progress reporting, custom losses, one-shot iterators."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from fuseprune.errors import ConfigError, DataError, FusepruneError, ModelError, UnknownNameError
from fuseprune.scoring import list_signals, score_layers


class RecordingProgress:
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def start(self, description: str, total: int | None) -> None:
        self.events.append(("start", description, total))

    def advance(self, n: int = 1) -> None:
        self.events.append(("advance", n))

    def stop(self) -> None:
        self.events.append(("stop",))


def test_default_is_every_signal_in_request_order(gpt2, gpt2_batches):
    table = score_layers(gpt2, gpt2_batches)
    assert table.signals == list_signals()
    table = score_layers(gpt2, gpt2_batches, ["taylor", "random", "act_norm"])
    assert table.signals == ["taylor", "random", "act_norm"]
    assert table.model_type == "gpt2" and table.layer_path == "transformer.h"


def test_unknown_signal_lists_the_known_ones(gpt2, gpt2_batches):
    with pytest.raises(UnknownNameError) as info:
        score_layers(gpt2, gpt2_batches, ["act_norm", "blok_influence"])
    message = str(info.value)
    assert "'blok_influence'" in message and "block_influence" in message and "ablation" in message
    assert "\n" not in message and isinstance(info.value, FusepruneError)


@pytest.mark.parametrize("batches", [[], iter([])])
def test_empty_calibration_data(gpt2, batches):
    with pytest.raises(DataError, match="at least one batch"):
        score_layers(gpt2, batches, ["act_norm"])


def test_empty_data_is_rejected_even_for_weight_only_signals(gpt2):
    with pytest.raises(DataError, match="at least one batch"):
        score_layers(gpt2, [], ["weight_norm"])


@pytest.mark.parametrize(
    ("batches", "match"),
    [
        ({"input_ids": torch.ones(2, 3, dtype=torch.long)}, "wrap it in a list"),
        ([[1, 2, 3]], "must be a dict"),
        ([{"input_ids": torch.ones(2, 3)}], "integer tensor"),
        ([{"input_ids": torch.ones(3, dtype=torch.long)}], r"shape \[B, T\]"),
        ([{"input_ids": torch.ones(2, 3, dtype=torch.long), "attention_mask": torch.ones(2, 4)}], "must match"),
        ([{"input_ids": torch.ones(1, 3, dtype=torch.long), "attention_mask": torch.zeros(1, 3)}], "non-padding token"),
    ],
)
def test_malformed_batches(gpt2, batches, match):
    with pytest.raises(DataError, match=match):
        score_layers(gpt2, batches, ["act_norm"])


def test_unsupported_architecture_names_supported_ones_and_layers_option(toy, toy_batches):
    with pytest.raises(ModelError) as info:
        score_layers(toy, toy_batches, ["act_norm"])
    message = str(info.value)
    assert all(name in message for name in ("gpt2", "llama", "mistral", "qwen2", "bert")) and "layers=" in message


def test_bad_arguments(gpt2, gpt2_batches):
    with pytest.raises(ConfigError, match="at least one"):
        score_layers(gpt2, gpt2_batches, [])
    with pytest.raises(ConfigError, match="repeat"):
        score_layers(gpt2, gpt2_batches, ["act_norm", "act_norm"])
    with pytest.raises(ConfigError, match="seed"):
        score_layers(gpt2, gpt2_batches, ["act_norm"], seed=-1)


def test_one_shot_iterator_works_for_one_pass_only(gpt2, gpt2_batches):
    table = score_layers(gpt2, iter(gpt2_batches), ["act_norm", "taylor", "random"])
    assert table.num_layers == 3
    assert score_layers(gpt2, iter(gpt2_batches), ["ablation"])["ablation"].num_layers == 3
    with pytest.raises(ConfigError, match="one-shot iterator"):
        score_layers(gpt2, iter(gpt2_batches), ["act_norm", "ablation"])


def test_progress_is_reported_per_batch_and_per_evaluation(gpt2, gpt2_batches):
    progress = RecordingProgress()
    score_layers(gpt2, gpt2_batches, ["act_norm", "ablation"], progress=progress)
    starts = [e for e in progress.events if e[0] == "start"]
    assert starts == [("start", "Tracing 3 layers", 2), ("start", "Ablating 3 layers", 8)]
    assert sum(e[1] for e in progress.events if e[0] == "advance") == 2 + 8
    assert progress.events.count(("stop",)) == 2 and progress.events[-1] == ("stop",)


def test_custom_loss_is_honoured_by_every_loss_based_part(gpt2, gpt2_batches):
    # A loss_fn equal to the default (mean token cross-entropy) gives the default scores: the batch
    # mean is re-weighted by the batch's target count. A different loss changes every loss-based signal.
    def same_as_default(logits, batch):
        labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)[:, 1:]
        return nn.functional.cross_entropy(logits[:, :-1].transpose(1, 2), labels, ignore_index=-100)

    def squared_logit(logits, batch):
        return (logits[:, :-1] ** 2).mean()

    names = ["grad_norm", "fisher", "taylor", "conductance", "ablation", "act_norm"]
    default = score_layers(gpt2, gpt2_batches, names)
    same = score_layers(gpt2, gpt2_batches, names, loss_fn=same_as_default)
    other = score_layers(gpt2, gpt2_batches, names, loss_fn=squared_logit)
    for name in names:
        assert same[name].raw == pytest.approx(default[name].raw, rel=1e-4, abs=1e-6), name
    for name in names[:-1]:
        assert other[name].raw != pytest.approx(default[name].raw, rel=1e-2), name
    assert other["act_norm"].raw == default["act_norm"].raw  # forward-only signals ignore the loss


def test_detached_loss_is_an_error(gpt2, gpt2_batches):
    with pytest.raises(ModelError, match="detach"):
        score_layers(gpt2, gpt2_batches, ["taylor"], loss_fn=lambda logits, batch: logits.detach().mean())


def test_attention_signals_need_a_known_attention_module(toy, toy_batches):
    with pytest.raises(ModelError, match="attention module"):
        score_layers(toy, toy_batches, ["attention_entropy"], layers="layers")
