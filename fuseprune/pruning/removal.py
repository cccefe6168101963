"""The one removal loop: rank the layers, remove the lowest-ranked one, re-rank the smaller model, repeat.

Iterative plans (:mod:`fuseprune.pruning.planner`), the fusion bank builder
(which follows the ablation oracle) and the comparison cells all walk a model
down this one path, so they remove the same layers for the same rankings.

Tie rule (the only one in fuseprune, :func:`~fuseprune.pruning.targets.removal_ranking`):
the layer with the lowest keep score goes first; among layers with equal keep
scores the LATER one (the higher original index) goes first.

Layers are named by their ORIGINAL index (their position in the intact model)
throughout: the loop maps each position in the shrunken model back.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass

from torch import nn

from fuseprune.errors import DataError
from fuseprune.models.adapters import get_adapter
from fuseprune.pruning.strategies import Ranking
from fuseprune.pruning.surgery import remove_layers
from fuseprune.pruning.targets import removal_ranking

log = logging.getLogger(__name__)

#: ``rank(model, removed, kept) -> Ranking`` of the model as it is now (one keep score per kept layer).
Ranker = Callable[[nn.Module, tuple[int, ...], tuple[int, ...]], Ranking]


@dataclass(frozen=True)
class RemovalStep:
    """One model state on a removal path.

    Attributes:
        model: The model in this state: the loop's private copy, pruned further once the
            next step is asked for (copy it to keep it).
        removed: Original indices removed so far, in removal order.
        kept: Original indices of the layers left, in layer order.
        ranking: The ranking of the ``kept`` layers; None in the last state (nothing more goes).
        next: Original index of the layer removed next; None in the last state.
    """

    model: nn.Module
    removed: tuple[int, ...]
    kept: tuple[int, ...]
    ranking: Ranking | None
    next: int | None


def removal_path(
    model: nn.Module,
    rank: Ranker,
    *,
    done: Callable[[tuple[int, ...]], bool] | None = None,
    removed: Sequence[int] = (),
    protected: Collection[int] = (),
    layers: str | None = None,
) -> Iterator[RemovalStep]:
    """Yield every state of ``model`` as layers go one at a time, lowest keep score first (ties: later layer).

    The path ends with a state that is not ranked (``next`` is None): once ``done(removed)``
    holds, or when no layer may go any more (one is left, or every one left is protected).
    ``model`` itself is never changed.

    Args:
        model: A supported transformers model or any module whose layer list is named by ``layers``.
        rank: Ranks the layers of the model in its current state.
        done: Whether the layers removed so far meet the target (default: never; go down to one layer).
        removed: Original indices already removed (to resume a path): they are cut first, unranked.
        protected: Original indices that never go.
        layers: Dotted path of the layer list, for unsupported architectures.

    Raises:
        DataError: ``rank`` returned a ranking of another number of layers.
    """
    work = copy.deepcopy(model)
    total = get_adapter(work, layers).num_layers
    gone = list(removed)
    if gone:
        remove_layers(work, sorted(gone), inplace=True, layers=layers)
    kept = [layer for layer in range(total) if layer not in gone]
    while True:
        eligible = [position for position, layer in enumerate(kept) if layer not in protected]
        if len(kept) < 2 or not eligible or (done is not None and done(tuple(gone))):
            yield RemovalStep(work, tuple(gone), tuple(kept), None, None)
            return
        ranking = rank(work, tuple(gone), tuple(kept))
        if len(ranking.keep) != len(kept):
            raise DataError(f"a ranking of {len(ranking.keep)} layers was given for a model with {len(kept)}.")
        position = removal_ranking(ranking.keep, eligible)[0]
        yield RemovalStep(work, tuple(gone), tuple(kept), ranking, kept[position])
        remove_layers(work, [position], inplace=True, layers=layers)
        gone.append(kept.pop(position))
        log.debug("removal path: removed original layer %d (%d left)", gone[-1], len(kept))
