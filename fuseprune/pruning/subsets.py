"""Every subset of layers, measured: the loss with each subset removed, and a choice's regret among them.

Pruning k of L layers has C(L, k) possible outcomes. :func:`subset_losses`
measures the mean loss with each subset skipped (the same skipping as the
``ablation`` oracle), and :func:`regret_of` places one chosen subset in that
distribution: ``regret`` is 0 for the best subset and 1 for the worst,
``percentile`` the share of subsets that do strictly better. That is what a
comparison of strategies reads where quality figures cannot tell them apart.

GPT-2 stacks are measured by sharing the layers common to the subsets' kept
prefixes (:mod:`fuseprune.pruning.subset_trie`), with the same results as
skipping; other architectures fall back to one forward per subset (logged).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from fuseprune.errors import ConfigError, DataError
from fuseprune.models.adapters import LayerAdapter, get_adapter
from fuseprune.progress import Progress, or_null
from fuseprune.pruning.subset_trie import Head, KeptTrie, agrees, capture, stack_head, walk
from fuseprune.scoring import LossFn
from fuseprune.scoring.batches import CalibrationBatch, count_batches, iter_batches, prepare_batch, summed_loss
from fuseprune.scoring.trace import eval_mode

log = logging.getLogger(__name__)

#: A subset of layers: their original indices, ascending.
Subset = tuple[int, ...]


@dataclass(frozen=True)
class Regret:
    """Where one chosen subset stands among every subset of its size.

    Attributes:
        regret: (loss(chosen) - loss(best)) / (loss(worst) - loss(best)); 0 when all subsets tie.
        percentile: Share of the subsets with a strictly lower loss than the chosen one (0 = none better).
        chosen, best, worst: The losses of the chosen, the best and the worst subset.
        count: How many subsets of that size were measured.
    """

    regret: float
    percentile: float
    chosen: float
    best: float
    worst: float
    count: int


def regret_of(losses: Mapping[Subset, float], chosen: Iterable[int]) -> Regret:
    """Place the subset ``chosen`` among the measured subsets of its size in ``losses``.

    Raises:
        DataError: ``chosen`` (as a set of layers) was not measured.
    """
    key = tuple(sorted(chosen))
    if key not in losses:
        raise DataError(f"the subset {list(key)} was not measured; measure subsets of size {len(key)} first.")
    peers = [loss for subset, loss in losses.items() if len(subset) == len(key)]
    value, best, worst = losses[key], min(peers), max(peers)
    regret = 0.0 if worst == best else (value - best) / (worst - best)
    percentile = sum(loss < value for loss in peers) / len(peers)
    return Regret(regret, percentile, value, best, worst, len(peers))


def subsets_of(num_layers: int, sizes: Iterable[int], protected: Iterable[int] = ()) -> list[Subset]:
    """Every subset of the unprotected layers with one of the ``sizes``, smallest sizes first.

    Raises:
        ConfigError: A size is negative or larger than the unprotected layers.
    """
    eligible = [layer for layer in range(num_layers) if layer not in set(protected)]
    subsets: list[Subset] = []
    for size in sorted(set(sizes)):
        if not 0 <= size <= len(eligible):
            raise ConfigError(f"a subset of layers to remove must have between 0 and {len(eligible)} layers; "
                              f"got {size}.")
        subsets.extend(itertools.combinations(eligible, size))
    return subsets


def subset_losses(
    model: nn.Module,
    batches: Iterable[Mapping[str, Any]],
    subsets: Sequence[Subset],
    *,
    loss_fn: LossFn | None,
    layers: str | None = None,
    progress: Progress | None = None,
) -> dict[Subset, float]:
    """Return the mean loss over the batches' target tokens with each subset's layers skipped.

    Args:
        model: The intact model (it is not changed).
        batches: Calibration batches; measured once per subset.
        subsets: The subsets of original layer indices to skip (``()`` = the intact model).
        loss_fn: Per-token loss, as for the scoring signals (None: the model's own objective).
        layers: Dotted path of the layer list, if the architecture needs it.
        progress: Progress sink (one step per subset and batch).
    """
    adapter = get_adapter(model, layers)
    keys = [tuple(sorted(subset)) for subset in subsets]
    return dict(zip(keys, _measure(adapter, batches, keys, loss_fn, progress), strict=True))


def _measure(
    adapter: LayerAdapter,
    batches: Iterable[Mapping[str, Any]],
    subsets: Sequence[Subset],
    loss_fn: LossFn | None,
    progress: Progress | None,
) -> list[float]:
    progress = or_null(progress)
    n = count_batches(batches)
    progress.start(f"Evaluating {len(subsets)} layer subsets", None if n is None else n * len(subsets))
    head = stack_head(adapter)
    trie = KeptTrie(adapter.num_layers, subsets) if head is not None else None
    if trie is not None:
        log.info("subset losses: %d subsets by prefix sharing, %d layer applications per batch",
                 len(subsets), trie.size)
    totals = [0.0] * len(subsets)
    n_batches = n_targets = 0
    try:
        with eval_mode(adapter.model), torch.no_grad():
            for index, raw in enumerate(iter_batches(batches)):
                batch = prepare_batch(raw, adapter.device, adapter.objective, index)
                n_batches += 1
                n_targets += batch.n_targets
                if not batch.n_targets:
                    progress.advance(len(subsets))
                    continue
                shared = head is not None and trie is not None and _add_shared(
                    adapter, head, trie, batch, loss_fn, totals, progress)
                if not shared:
                    _add_brute_force(adapter, subsets, batch, loss_fn, totals, progress)
    finally:
        progress.stop()
    if n_batches == 0:
        raise DataError("`batches` must contain at least one batch; got none.")
    if n_targets == 0:
        raise DataError("calibration batches must contain at least one token with a loss target; got none.")
    return [total / n_targets for total in totals]


def _add_brute_force(
    adapter: LayerAdapter, subsets: Sequence[Subset], batch: CalibrationBatch, loss_fn: LossFn | None,
    totals: list[float], progress: Progress,
) -> None:
    """Add each subset's summed loss on ``batch`` to ``totals``: one forward per subset, its layers skipped."""
    for position, subset in enumerate(subsets):
        with adapter.skip_layers(subset):
            totals[position] += float(summed_loss(adapter.logits(batch.inputs), batch, loss_fn))
        progress.advance()


def _add_shared(
    adapter: LayerAdapter, head: Head, trie: KeptTrie, batch: CalibrationBatch, loss_fn: LossFn | None,
    totals: list[float], progress: Progress,
) -> bool:
    """Add each subset's summed loss on ``batch`` to ``totals`` by walking ``trie``; False if the stack disagrees."""
    captured = capture(adapter, batch.inputs)
    if captured is None or not agrees(adapter, head, captured):
        return False

    def done(positions: list[int], loss: float) -> None:
        for position in positions:
            totals[position] += loss
        progress.advance(len(positions))

    walk(adapter, head, trie, captured, lambda logits: float(summed_loss(logits, batch, loss_fn)), done)
    return True
