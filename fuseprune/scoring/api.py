"""score_layers: score every layer of a model with many signals from one shared pass."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from torch import nn

from fuseprune.errors import ConfigError, UnknownNameError
from fuseprune.models.adapters import get_adapter
from fuseprune.progress import Progress
from fuseprune.scoring.base import REFERENCES, SIGNALS, LossFn, list_references, list_signals
from fuseprune.scoring.table import ScoreTable
from fuseprune.scoring.trace import TraceConfig, trace_layers

logger = logging.getLogger(__name__)


def score_layers(
    model: nn.Module,
    batches: Iterable[Mapping[str, Any]],
    signals: Sequence[str] | str | None = None,
    *,
    seed: int = 0,
    loss_fn: LossFn | None = None,
    layers: str | None = None,
    progress: Progress | None = None,
    config: TraceConfig | None = None,
) -> ScoreTable:
    """Score every layer of ``model`` with the requested signals and reference strategies.

    All trace-based signals share ONE forward and at most ONE backward pass per
    calibration batch (``conductance`` adds one captum forward + backward per
    batch). References run on their own: ``random`` needs no data, ``ablation``
    runs ``L + 1`` forward-only evaluations per batch. The model is left as it
    was (training flag, attention implementation, ``requires_grad``, ``.grad``).

    Args:
        model: A supported transformers model (see
            :func:`fuseprune.models.supported_architectures`) or any module whose
            layer list is named by ``layers``.
        batches: Calibration batches: dicts with ``input_ids`` (LongTensor
            ``[B, T]``) and optional ``attention_mask`` (the model sees only
            these two; other keys reach ``loss_fn``). Must be a list, not a
            one-shot iterator, when ``ablation`` is requested with signals.
        signals: Signal and/or reference names; ``None`` = every registered signal
            (no references). See :func:`list_signals` and :func:`list_references`.
        seed: Seed of the token subsample, projections and the ``random`` reference.
        loss_fn: ``loss_fn(logits, batch) -> scalar mean loss over the batch's target
            tokens``; default: token cross-entropy (next token for causal models,
            labels = input_ids for masked-LM models), padding excluded. Used by the
            backward pass, taylor, fisher, grad_norm, conductance and ablation.
        layers: Dotted path of the layer ``nn.ModuleList`` (e.g. ``"transformer.h"``),
            required for unsupported architectures.
        progress: Optional reporter with ``start(description, total)``,
            ``advance(n=1)`` and ``stop()``.
        config: Trace options (MI subsample size and projection width); an
            addition to the agreed signature, keyword-only and optional.

    Returns:
        A :class:`ScoreTable` with one :class:`LayerScores` per requested name, in order.

    Raises:
        UnknownNameError: A name is neither a signal nor a reference.
        DataError: ``batches`` is empty or malformed.
        ModelError: The architecture is unsupported and ``layers`` was not given.
    """
    names = _resolve_names(signals)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"`seed` must be a non-negative integer; got {seed!r}.")
    adapter = get_adapter(model, layers)
    trace_signals = [SIGNALS.get(n)() for n in names if n in SIGNALS]
    references = [REFERENCES.get(n)() for n in names if n in REFERENCES]
    data_references = sum(r.needs_data for r in references)
    run_trace = bool(trace_signals) or not data_references  # a no-signal trace only validates the batches
    passes = int(run_trace) + data_references
    if passes > 1 and isinstance(batches, Iterator):
        raise ConfigError(f"`batches` is a one-shot iterator but {passes} passes over it are needed; pass a list.")
    model_name = adapter.model_type or type(model).__name__
    logger.info("scoring %d layers of %s with %s", adapter.num_layers, model_name, ", ".join(names))
    needs = frozenset().union(*(s.needs for s in trace_signals))
    results = {}
    if run_trace:
        trace = trace_layers(
            adapter, batches, needs or {"weights"}, seed=seed, loss_fn=loss_fn, progress=progress, config=config
        )
        results = {s.name: s.compute(trace) for s in trace_signals}
    for reference in references:
        results[reference.name] = reference.score(adapter, batches, seed=seed, loss_fn=loss_fn, progress=progress)
    return ScoreTable(tuple(results[n] for n in names), adapter.model_type, adapter.layer_path, seed)


def _resolve_names(signals: Sequence[str] | str | None) -> list[str]:
    if signals is None:
        return list_signals()
    names = [signals] if isinstance(signals, str) else list(signals)
    if not names:
        raise ConfigError("`signals` must name at least one signal or reference; got none.")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"`signals` must not repeat names; got {', '.join(duplicates)} more than once.")
    for name in names:
        if name not in SIGNALS and name not in REFERENCES:
            raise UnknownNameError(
                f"unknown signal {name!r}; known signals: {', '.join(list_signals())}; "
                f"references: {', '.join(list_references())}."
            )
    return names
