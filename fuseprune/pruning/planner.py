"""make_plan: rank the layers with a strategy and decide which to remove (one-shot or iterative).

- ``one-shot``: rank the intact model once, remove the lowest-ranked layers
  that meet the target.
- ``iterative``: rank, remove the single lowest-ranked layer for real (surgery
  on a private copy of the model), re-rank the smaller model, repeat until the
  target is met (:func:`~fuseprune.pruning.removal.removal_path`, the one
  removal loop; ties go to the later layer). The order is recorded in ORIGINAL
  layer indices.

The model passed in is never changed. Modes are looked up in :data:`MODES`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from torch import nn

from fuseprune.config import PlanConfig as PlanConfig
from fuseprune.errors import ConfigError, DataError
from fuseprune.models.adapters import get_adapter
from fuseprune.progress import Progress
from fuseprune.pruning.fingerprint import fingerprint_model
from fuseprune.pruning.plan import PrunePlan
from fuseprune.pruning.registry import get_strategy
from fuseprune.pruning.removal import removal_path
from fuseprune.pruning.strategies import RankContext, Ranking, Strategy
from fuseprune.pruning.targets import Selection, protected_layers
from fuseprune.registry import Registry
from fuseprune.scoring import LossFn

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What a mode decided: the removal order (original indices) and the first ranking."""

    removal_order: tuple[int, ...]
    first: Ranking


ModeFn = Callable[[nn.Module, Iterable[Mapping[str, Any]], Strategy, Selection, RankContext], Outcome]

#: Plan modes: name -> ``mode(model, batches, strategy, selection, context) -> Outcome``.
MODES: Registry[ModeFn] = Registry("plan mode")


def make_plan(
    model: nn.Module,
    batches: Iterable[Mapping[str, Any]],
    strategy: str | Strategy,
    *,
    remove: int | float | str | None = None,
    max_params: int | None = None,
    mode: str = "one-shot",
    protect: str | Sequence[str | int] = (),
    seed: int = 0,
    loss_fn: LossFn | None = None,
    layers: str | None = None,
    progress: Progress | None = None,
) -> PrunePlan:
    """Rank the layers of ``model`` with ``strategy`` and return the plan that removes the lowest.

    Args:
        model: A supported transformers model or any module whose layer list is named by ``layers``.
        batches: Calibration batches (dicts with ``input_ids`` and optional ``attention_mask``);
            a list, not a one-shot iterator, in iterative mode.
        strategy: A signal, a reference (``random``, ``ablation``), a registered strategy
            (see :func:`list_strategies`) or a :class:`Strategy` instance.
        remove: Layers to remove: a count (``3``), a percentage (``"50%"``, rounded half
            up, at least 1) or a fraction in (0, 1).
        max_params: Instead of ``remove``: remove lowest-ranked layers until the model has
            at most this many parameters (none if it already has).
        mode: ``"one-shot"`` or ``"iterative"``.
        protect: Layers that must stay: ``"first"``, ``"last"`` and/or original indices.
        seed: Seed of the scoring and of the ``random`` strategy.
        loss_fn: Optional ``loss_fn(logits, batch) -> scalar mean loss`` for the scoring.
        layers: Dotted path of the layer list, for unsupported architectures.
        progress: Optional progress reporter (one task per scoring round).

    Returns:
        The plan; ``model`` is unchanged.

    Raises:
        ConfigError: Bad options, or a target that cannot be met.
        UnknownNameError: Unknown strategy or mode (the message lists the known ones).
    """
    config = PlanConfig(remove=remove, max_params=max_params, mode=mode, protect=_as_tuple(protect), seed=seed)
    return make_plan_from_config(model, batches, strategy, config, loss_fn=loss_fn, layers=layers, progress=progress)


def make_plan_from_config(
    model: nn.Module,
    batches: Iterable[Mapping[str, Any]],
    strategy: str | Strategy,
    config: PlanConfig,
    *,
    loss_fn: LossFn | None = None,
    layers: str | None = None,
    progress: Progress | None = None,
) -> PrunePlan:
    """:func:`make_plan` with its options grouped in a :class:`PlanConfig`."""
    chosen = get_strategy(strategy)
    adapter = get_adapter(model, layers)
    protected = protected_layers(config.protect, adapter.num_layers)
    layer_params = tuple(sum(p.numel() for p in layer.parameters()) for layer in adapter.layers)
    total = sum(p.numel() for p in model.parameters())
    selection = Selection(config.target, protected, layer_params, total)
    selection.check()
    fingerprint = fingerprint_model(model, layers)
    context = RankContext(seed=config.seed, loss_fn=loss_fn, layers=adapter.layer_path, progress=progress,
                          remove=config.target.layer_count(adapter.num_layers), protected=protected)
    logger.info("planning with %s (%s) on %d layers", chosen.name, config.mode, adapter.num_layers)
    outcome = MODES.get(config.mode)(model, batches, chosen, selection, context)
    parameters = {key: value for key, value in config.to_dict().items() if key != "mode"}
    parameters["protected_layers"] = sorted(protected)
    strategy_parameters = chosen.parameters()
    if strategy_parameters:
        parameters["strategy"] = strategy_parameters
    first = outcome.first
    return PrunePlan(
        model=fingerprint, strategy=chosen.name, mode=config.mode, removal_order=outcome.removal_order,
        parameters=parameters, signal_scores=first.signal_scores, fused_scores=first.fused,
        predicted_impact=first.predicted_impact,
    )


def _as_tuple(protect: str | Sequence[str | int]) -> tuple[str | int, ...]:
    items = (protect,) if isinstance(protect, str) else tuple(protect)
    return tuple(int(p) if isinstance(p, str) and p.strip().isdigit() and p.isascii() else p for p in items)


def _rank(strategy: Strategy, model: nn.Module, batches: Any, context: RankContext, num_layers: int) -> Ranking:
    ranking = strategy.rank(model, batches, context)
    if len(ranking.keep) != num_layers:
        raise DataError(f"strategy {strategy.name!r} ranked {len(ranking.keep)} layers; the model has {num_layers}.")
    return ranking


@MODES.register("one-shot")
def one_shot(model: nn.Module, batches: Any, strategy: Strategy, selection: Selection, context: RankContext) -> Outcome:
    """Rank once and remove the lowest-ranked eligible layers that meet the target."""
    ranking = _rank(strategy, model, batches, context, selection.num_layers)
    return Outcome(selection.choose(ranking.keep), ranking)


@MODES.register("iterative")
def iterative(
    model: nn.Module, batches: Any, strategy: Strategy, selection: Selection, context: RankContext
) -> Outcome:
    """Follow :func:`~fuseprune.pruning.removal.removal_path` until the target is met; record original indices."""
    if isinstance(batches, Iterator):
        raise ConfigError("`batches` is a one-shot iterator but iterative mode scores several times; pass a list.")

    def rank(work: nn.Module, removed: tuple[int, ...], kept: tuple[int, ...]) -> Ranking:
        left = None if context.remove is None else context.remove - len(removed)
        protected = frozenset(p for p, layer in enumerate(kept) if layer in selection.protected)
        step = replace(context, removed_fraction=len(removed) / selection.num_layers, remove=left, protected=protected)
        return _rank(strategy, work, batches, step, len(kept))

    first: Ranking | None = None
    order: tuple[int, ...] = ()
    for step in removal_path(model, rank, done=selection.done, protected=selection.protected, layers=context.layers):
        first, order = first or step.ranking, step.removed
        if step.next is not None:
            logger.info("iterative step %d: removing original layer %d", len(order) + 1, step.next)
    if not selection.done(order):
        raise ConfigError(f"`max_params` {selection.target.max_params} cannot be met without removing every layer.")
    if first is None:  # the target was met before any removal: the plan still records the ranking
        first = _rank(strategy, model, batches, context, selection.num_layers)
    return Outcome(order, first)

