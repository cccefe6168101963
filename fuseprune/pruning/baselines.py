"""Baseline strategies every pruning study needs: ``tail``, ``head`` and the ``exhaustive`` optimum.

Removing the last layers is the baseline the literature finds hard to beat
(Gromov et al. 2024, "The Unreasonable Ineffectiveness of the Deeper Layers";
"Reassessing Layer Pruning in LLMs", ICLR 2026); ``head`` is its mirror.
``exhaustive`` is the true optimum of the objective for a given number of layers
to remove: it evaluates every subset of that size, so it is feasible only for
small stacks (refused above ``max_layers``).

The rankings only order the layers; the planner decides which may go (protected
layers stay), so ``tail`` with ``--protect last`` removes the last unprotected ones.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from fuseprune.errors import ConfigError
from fuseprune.models.adapters import get_adapter
from fuseprune.pruning.registry import register_builtin
from fuseprune.pruning.strategies import RankContext, Ranking, Strategy, StrategyOptions
from fuseprune.pruning.subsets import subset_losses, subsets_of
from fuseprune.scoring import LossFn

log = logging.getLogger(__name__)

#: Default of the ``exhaustive`` option ``max_layers``: C(12, 6) = 924 evaluations per batch at most.
DEFAULT_MAX_LAYERS = 12


def _ordered_keep(order: Sequence[int], num_layers: int) -> tuple[float, ...]:
    """Keep scores in [0, 1] that remove the layers in ``order`` first to last (all distinct: no ties)."""
    keep = [0.0] * num_layers
    for position, layer in enumerate(order):
        keep[layer] = position / max(num_layers - 1, 1)
    return tuple(keep)


@register_builtin("tail")
class TailStrategy(Strategy):
    """Remove the last layers first: the deep-layer baseline that is hard to beat (Gromov et al. 2024)."""

    description = "the last layers go first (baseline; no data)"

    def rank(self, model: nn.Module, batches: Iterable[Mapping[str, Any]], context: RankContext) -> Ranking:
        """Keep score rising toward the first layer: the last layer has the lowest."""
        count = get_adapter(model, context.layers).num_layers
        keep = _ordered_keep(range(count - 1, -1, -1), count)
        return Ranking(keep=keep, signal_scores={self.name: keep})


@register_builtin("head")
class HeadStrategy(Strategy):
    """Remove the first layers first: the mirror of ``tail``, to show what depth position alone does."""

    description = "the first layers go first (baseline; no data)"

    def rank(self, model: nn.Module, batches: Iterable[Mapping[str, Any]], context: RankContext) -> Ranking:
        """Keep score rising toward the last layer: the first layer has the lowest."""
        count = get_adapter(model, context.layers).num_layers
        keep = _ordered_keep(range(count), count)
        return Ranking(keep=keep, signal_scores={self.name: keep})


@dataclass(frozen=True)
class ExhaustiveOptions(StrategyOptions):
    """Options of the ``exhaustive`` strategy."""

    max_layers: int = field(default=DEFAULT_MAX_LAYERS, metadata={
        "help": "largest layer count searched (every subset of the layers to remove is evaluated)"})

    def __post_init__(self) -> None:
        value = self.max_layers
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"`max_layers` of strategy 'exhaustive' must be a positive integer; got {value!r}.")


@register_builtin("exhaustive")
class ExhaustiveStrategy(Strategy):
    """The true optimum: of every subset of k layers, remove the one whose removal gives the lowest mean loss.

    k is the number of layers the plan removes (``RankContext.remove``, set by
    :func:`~fuseprune.pruning.make_plan` from ``remove``); protected layers are in
    no subset. Each subset is measured by skipping its layers (as the ``ablation``
    oracle skips one) and taking the mean ``context.loss_fn`` over the target tokens
    of the batches given: the calibration rows, which come from the training split,
    never the holdout a report scores (an oracle that looks at the test set is not a
    strategy). The best subset gets the lowest keep scores, so a plan removes exactly
    it; within it and among the other layers, the lower the mean loss of the subsets
    containing a layer, the earlier it goes (ties: the later layer).
    """

    description = "the best subset of the layers to remove, every subset evaluated (oracle)"
    options_class = ExhaustiveOptions
    options: ExhaustiveOptions
    needs_count = True

    def rank(self, model: nn.Module, batches: Iterable[Mapping[str, Any]], context: RankContext) -> Ranking:
        """Evaluate every subset of ``context.remove`` unprotected layers; rank the best one lowest."""
        adapter = get_adapter(model, context.layers)
        eligible = [layer for layer in range(adapter.num_layers) if layer not in context.protected]
        k = self._check(adapter.num_layers, context.remove, len(eligible), context.loss_fn)
        subsets = subsets_of(adapter.num_layers, [k], context.protected)
        measured = subset_losses(model, batches, subsets, loss_fn=context.loss_fn, layers=context.layers,
                                 progress=context.progress)
        losses = [measured[subset] for subset in subsets]
        best = subsets[min(range(len(subsets)), key=losses.__getitem__)]
        log.info("exhaustive: of %d subsets of %d layers, removing %s gives the lowest mean loss %.6g",
                 len(subsets), k, list(best), min(losses))
        keep = _keep_scores(best, subsets, losses, adapter.num_layers)
        return Ranking(keep=keep, signal_scores={self.name: keep})

    def _check(self, count: int, k: int | None, eligible: int, loss_fn: LossFn | None) -> int:
        """Return the number of layers to remove; raise a one-line ConfigError unless the search can run."""
        if count > self.options.max_layers:
            raise ConfigError(f"strategy 'exhaustive' searches at most `max_layers` {self.options.max_layers} layers; "
                              f"this model has {count}; raise the option `max_layers` or pick another strategy.")
        if loss_fn is None:
            raise ConfigError("strategy 'exhaustive' needs a `loss_fn` to measure each subset of layers; pass one.")
        if k is None:
            raise ConfigError("strategy 'exhaustive' needs the number of layers to remove (`remove`); a parameter "
                              "budget or a one-layer-at-a-time path gives none.")
        if not 1 <= k <= eligible:
            raise ConfigError(f"strategy 'exhaustive' can remove between 1 and {eligible} unprotected layers; got {k}.")
        return k


def _keep_scores(
    best: tuple[int, ...], subsets: Sequence[tuple[int, ...]], losses: Sequence[float], num_layers: int
) -> tuple[float, ...]:
    """Keep scores that remove ``best`` first, then the other searched layers, protected ones last.

    Within each group a layer goes earlier the lower the mean loss of the subsets containing it
    (ties: the later layer first, as everywhere in fuseprune).
    """
    sums: dict[int, float] = {}
    counts: dict[int, int] = {}
    for subset, loss in zip(subsets, losses, strict=True):
        for layer in subset:
            sums[layer] = sums.get(layer, 0.0) + loss
            counts[layer] = counts.get(layer, 0) + 1

    def in_order(layers: Iterable[int]) -> list[int]:
        return sorted(layers, key=lambda layer: (sums[layer] / counts[layer], -layer))

    rest = [layer for layer in sums if layer not in best]
    protected = [layer for layer in range(num_layers) if layer not in sums]
    return _ordered_keep([*in_order(best), *in_order(rest), *protected], num_layers)
