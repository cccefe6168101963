"""Every subset measured, and a choice's regret among them: values worked out by hand."""

from __future__ import annotations

import logging

import pytest
import torch
from transformers.modeling_outputs import CausalLMOutput

from fuseprune.errors import ConfigError, DataError
from fuseprune.models.adapters import get_adapter
from fuseprune.pruning.subset_trie import KeptTrie
from fuseprune.pruning.subsets import regret_of, subset_losses, subsets_of
from fuseprune.scoring.batches import prepare_batch, summed_loss

from .conftest import LAYERS

# losses of the four subsets of one layer of a 4-layer stack, and two of size two
LOSSES = {(0,): 2.0, (1,): 1.0, (2,): 1.5, (3,): 3.0, (0, 1): 5.0, (2, 3): 4.0}


def test_regret_is_zero_for_the_best_one_for_the_worst_and_linear_between():
    assert regret_of(LOSSES, [1]).regret == 0.0
    assert regret_of(LOSSES, [3]).regret == 1.0
    assert regret_of(LOSSES, [2]).regret == pytest.approx(0.25)  # (1.5 - 1) / (3 - 1)
    assert regret_of(LOSSES, [0]).regret == pytest.approx(0.5)


def test_percentile_counts_the_subsets_of_the_same_size_that_do_strictly_better():
    assert regret_of(LOSSES, [1]).percentile == 0.0
    assert regret_of(LOSSES, [0]).percentile == 0.5  # (1,) and (2,) are better; size-two subsets do not count
    assert regret_of(LOSSES, [3]).percentile == 0.75
    both = regret_of(LOSSES, (3, 2))  # order does not matter
    assert (both.regret, both.percentile, both.best, both.worst, both.count) == (0.0, 0.0, 4.0, 5.0, 2)


def test_ties_give_no_regret_and_an_unmeasured_subset_is_refused():
    assert regret_of({(0,): 1.0, (1,): 1.0}, [1]).regret == 0.0
    with pytest.raises(DataError, match=r"the subset \[0, 2\] was not measured"):
        regret_of(LOSSES, [2, 0])


def test_subsets_of_lists_every_subset_of_the_unprotected_layers_by_size():
    assert subsets_of(4, [2, 0], protected=[3]) == [(), (0, 1), (0, 2), (1, 2)]
    assert len(subsets_of(12, [6])) == 924
    with pytest.raises(ConfigError, match="between 0 and 3 layers; got 4"):
        subsets_of(4, [4], protected=[0])


# ---- subset_losses: prefix sharing gives what skipping the layers gives ----------------------------------------

def _padded_batches() -> list[dict[str, torch.Tensor]]:
    """Two batches: rows of unequal length padded on the right (mask 0), and one without a mask."""
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(3, 40, (3, 7), generator=gen)
    mask = torch.tensor([[1] * 7, [1] * 5 + [0] * 2, [1] * 3 + [0] * 4])
    other = torch.randint(3, 40, (2, 5), generator=gen)
    return [{"input_ids": ids * mask, "attention_mask": mask}, {"input_ids": other}]


def _skipping(model, batches, subsets, loss_fn=None) -> dict[tuple[int, ...], float]:
    """The reference: one forward per subset with its layers skipped, summed loss / target tokens."""
    adapter = get_adapter(model)
    prepared = [prepare_batch(raw, adapter.device, adapter.objective, i) for i, raw in enumerate(batches)]
    out = {}
    with torch.no_grad():
        for subset in subsets:
            with adapter.skip_layers(subset):
                total = sum(float(summed_loss(adapter.logits(b.inputs), b, loss_fn)) for b in prepared)
            out[subset] = total / sum(b.n_targets for b in prepared)
    return out


def _close(got: dict, want: dict) -> bool:
    return got.keys() == want.keys() and all(abs(got[k] - want[k]) <= 1e-5 for k in want)


def _mean_logsumexp(logits: torch.Tensor, batch: dict) -> torch.Tensor:
    return logits.float().logsumexp(-1).mean()


@pytest.mark.parametrize("name", ["gpt2", "gpt2-scaled", "gpt2-cross"])
@pytest.mark.parametrize("loss_fn", [None, _mean_logsumexp])
def test_prefix_sharing_equals_skipping_for_every_subset_of_every_size(build, caplog, name, loss_fn):
    model, batches = build(name), _padded_batches()
    subsets = subsets_of(LAYERS, range(LAYERS + 1))
    with caplog.at_level(logging.INFO, logger="fuseprune.pruning.subsets"):
        got = subset_losses(model, batches, subsets, loss_fn=loss_fn)
    assert "16 subsets by prefix sharing, 15 layer applications per batch" in caplog.text
    want = _skipping(model, batches, subsets, loss_fn)
    assert _close(got, want)
    assert len(set(want.values())) == 16  # every layer matters: a wrong layer order could not pass


def test_prefix_sharing_measures_only_the_requested_subsets(build):
    model, batches = build("gpt2"), _padded_batches()
    got = subset_losses(model, batches, [(3, 1), (0,)], loss_fn=None)
    assert _close(got, _skipping(model, batches, [(1, 3), (0,)]))


def test_the_trie_applies_each_shared_prefix_once():
    # kept (1, 2, 3) and (0, 2, 3): nodes 1, 12, 123, 0, 02, 023
    assert KeptTrie(4, [(0,), (1,)]).size == 6
    assert KeptTrie(4, subsets_of(4, range(5))).size == 15  # every non-empty kept set is a node
    assert KeptTrie(12, subsets_of(12, range(13))).size == 4095  # brute force: 12 * 2^11 = 24,576
    assert KeptTrie(3, [(1,), (1,)]).wanted == {(0, 2): [0, 1]}


def test_a_non_gpt2_model_falls_back_to_skipping_and_says_so(build, caplog):
    model, batches = build("llama"), _padded_batches()
    subsets = subsets_of(LAYERS, [0, 1, 3])
    with caplog.at_level(logging.INFO, logger="fuseprune.pruning.subset_trie"):
        got = subset_losses(model, batches, subsets, loss_fn=None)
    assert "brute force, no prefix-sharing support for model type 'llama'" in caplog.text
    assert _close(got, _skipping(model, batches, subsets))


def test_a_gpt2_whose_forward_the_layers_do_not_reproduce_is_measured_by_skipping(build, caplog):
    model, batches = build("gpt2"), _padded_batches()
    model.register_forward_hook(lambda _m, _a, out: out.__class__(logits=out.logits * 2))  # the head is not all
    subsets = subsets_of(LAYERS, [0, 2])
    with caplog.at_level(logging.WARNING, logger="fuseprune.pruning.subset_trie"):
        got = subset_losses(model, batches, subsets, loss_fn=None)
    assert caplog.text.count("does not reproduce GPT2LMHeadModel's forward") == 2  # once per batch
    assert _close(got, _skipping(model, batches, subsets))


def test_a_gpt2_whose_forward_skips_its_layer_stack_is_measured_by_skipping(build, caplog):
    model, batches = build("gpt2"), _padded_batches()
    embed = model.transformer.wte
    model.forward = lambda input_ids, **_: CausalLMOutput(logits=embed(input_ids) @ embed.weight.T)
    with caplog.at_level(logging.WARNING, logger="fuseprune.pruning.subset_trie"):
        got = subset_losses(model, batches, [(), (1,)], loss_fn=None)
    assert caplog.text.count("did not run its layer stack") == 2
    assert _close(got, _skipping(model, batches, [(), (1,)]))


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def start(self, description: str, total: int | None) -> None:
        self.calls.append(("start", total))

    def advance(self, n: int = 1, **info: object) -> None:
        self.calls.append(("advance", n))

    def stop(self) -> None:
        self.calls.append(("stop",))


@pytest.mark.parametrize("name", ["gpt2", "llama"])
def test_progress_advances_one_step_per_subset_and_batch(build, name):
    progress = _Recorder()
    subset_losses(build(name), _padded_batches(), subsets_of(LAYERS, [1, 2]), loss_fn=None, progress=progress)
    assert progress.calls[0] == ("start", 2 * 10) and progress.calls[-1] == ("stop",)
    assert sum(call[1] for call in progress.calls if call[0] == "advance") == 20
