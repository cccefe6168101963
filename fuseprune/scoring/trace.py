"""The layer trace: ONE forward and at most ONE backward per calibration batch, with hooks.

:func:`trace_layers` runs the model over the calibration batches once and keeps
only what the requested signals need (see ``needs`` in ``scoring/base.py``):

- forward hooks on every layer reduce ``h_in``/``h_out`` on the fly (recorders,
  token sampler) and, when gradients are needed, keep the batch's layer outputs;
- forward hooks on every attention module reduce the attention probabilities
  (the model is switched to eager attention for the pass, then restored);
- if any gradient is needed, the batch's *summed* token loss is differentiated
  once with ``torch.autograd.grad`` with respect to the layer parameters and/or
  the kept layer outputs (the model's ``.grad`` fields are never touched);
- ``conductance`` alone adds one captum forward + backward per batch.

The model is put in eval mode and its layer parameters are made to require
gradients only for the duration of the pass; both are restored afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from fuseprune.config import ConfigMixin, check_range
from fuseprune.errors import ConfigError, DataError, ModelError
from fuseprune.models.adapters import LayerAdapter
from fuseprune.progress import Progress, or_null
from fuseprune.scoring.attribution import AttributionRecorder
from fuseprune.scoring.base import NEEDS, LossFn
from fuseprune.scoring.batches import CalibrationBatch, count_batches, iter_batches, prepare_batch, summed_loss
from fuseprune.scoring.hooks import TraceHooks
from fuseprune.scoring.recorders import AttentionRecorder, GateRecorder, GradientRecorder, HiddenRecorder
from fuseprune.scoring.sampler import TokenSampler

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TraceConfig(ConfigMixin):
    """Options of the layer trace (the defaults suit models up to a few dozen layers)."""

    mi_samples: int = field(default=1024, metadata={"help": "Tokens kept (seeded subsample) for the MI signals."})
    mi_components: int = field(default=4, metadata={"help": "Random projection directions for the MI signals."})

    def __post_init__(self) -> None:
        check_range("mi_samples", self.mi_samples, 16, float("inf"))
        check_range("mi_components", self.mi_components, 1, 64)


@dataclass
class LayerTrace:
    """What one scoring pass recorded; each part is ``None`` unless a requested signal needs it.

    Attributes:
        adapter: The model's layer adapter (signals read weights through it).
        needs: Union of the requested signals' needs.
        seed: Seed of the token sample and the projections.
        config: Trace options.
        n_batches: Calibration batches seen.
        n_rows: Rows with at least one valid token.
        n_tokens: Valid (non-padding) tokens.
        n_targets: Tokens that have a loss target.
    """

    adapter: LayerAdapter
    needs: frozenset[str]
    seed: int
    config: TraceConfig
    n_batches: int = 0
    n_rows: int = 0
    n_tokens: int = 0
    n_targets: int = 0
    hidden: HiddenRecorder | None = None
    attention: AttentionRecorder | None = None
    gates: GateRecorder | None = None
    gradients: GradientRecorder | None = None
    samples: TokenSampler | None = None
    attribution: AttributionRecorder | None = None

    @property
    def num_layers(self) -> int:
        """Number of layers traced."""
        return self.adapter.num_layers

    def require(self, part: str, signal: str) -> Any:
        """Return the recorded ``part`` (``"hidden"``, ``"gates"``...) or say which need was missing."""
        value = getattr(self, part, None)
        if value is None:
            raise ModelError(f"signal {signal!r} needs the trace part {part!r}, which was not recorded.")
        return value


def trace_layers(
    adapter: LayerAdapter,
    batches: Iterable[Mapping[str, Any]],
    needs: Iterable[str],
    *,
    seed: int = 0,
    loss_fn: LossFn | None = None,
    progress: Progress | None = None,
    config: TraceConfig | None = None,
) -> LayerTrace:
    """Run the model once over ``batches`` and record what ``needs`` asks for.

    Args:
        adapter: Layer adapter of the model to trace.
        batches: Calibration batches (dicts with ``input_ids`` and optional ``attention_mask``).
        needs: What to record (a subset of ``NEEDS``).
        seed: Seed of the token sample and the projections.
        loss_fn: Optional ``loss_fn(logits, batch) -> scalar mean loss``.
        progress: Optional progress reporter (one step per batch).
        config: Trace options.

    Raises:
        DataError: ``batches`` is empty or malformed, or has no usable tokens.
    """
    needs = frozenset(needs)
    if needs - NEEDS:
        raise ConfigError(f"unknown trace needs {sorted(needs - NEEDS)}; known: {sorted(NEEDS)}.")
    trace = _new_trace(adapter, needs, seed, config or TraceConfig(), loss_fn)
    run_model = bool(needs - {"weights", "attribution"})  # captum runs its own pass
    backward = bool(needs & {"gradients", "output_gradients"})
    hooks = TraceHooks(adapter, trace.hidden, trace.attention, trace.samples, keep_outputs="output_gradients" in needs)
    progress = or_null(progress)
    with _pass_context(adapter, needs, hooks if run_model else None, backward):
        progress.start(f"Tracing {adapter.num_layers} layers", count_batches(batches))
        try:
            for index, raw in enumerate(iter_batches(batches)):
                batch = prepare_batch(raw, adapter.device, adapter.objective, index)
                _count(trace, batch)
                if run_model:
                    _run_batch(trace, hooks, batch, backward, loss_fn)
                if trace.attribution is not None:
                    trace.attribution.update(batch)
                progress.advance()
        finally:
            progress.stop()
    _check_counts(trace, backward or trace.samples is not None or trace.attribution is not None)
    return trace


@contextmanager
def _pass_context(
    adapter: LayerAdapter, needs: frozenset[str], hooks: TraceHooks | None, backward: bool
) -> Iterator[None]:
    """Eval mode, hooks, eager attention and trainable layers for the pass; all undone on exit."""
    with ExitStack() as stack:
        if needs - {"weights"}:
            stack.enter_context(eval_mode(adapter.model))
        if hooks is not None:
            stack.enter_context(hooks.installed())
        if "attentions" in needs:
            stack.enter_context(adapter.eager_attention())
        if backward:
            stack.enter_context(_layer_grads_enabled(adapter.layers))
        yield


def _new_trace(
    adapter: LayerAdapter, needs: frozenset[str], seed: int, config: TraceConfig, loss_fn: LossFn | None
) -> LayerTrace:
    n = adapter.num_layers
    return LayerTrace(
        adapter=adapter,
        needs=needs,
        seed=seed,
        config=config,
        hidden=HiddenRecorder(n) if "activations" in needs else None,
        attention=AttentionRecorder(n) if "attentions" in needs else None,
        gates=GateRecorder(n) if "output_gradients" in needs else None,
        gradients=GradientRecorder(n) if "gradients" in needs else None,
        samples=TokenSampler(n + 1, config.mi_samples, config.mi_components, seed) if "samples" in needs else None,
        attribution=AttributionRecorder(adapter, loss_fn) if "attribution" in needs else None,
    )


def _run_batch(
    trace: LayerTrace, hooks: TraceHooks, batch: CalibrationBatch, backward: bool, loss_fn: LossFn | None
) -> None:
    hooks.start_batch(batch)
    if trace.samples is not None:
        trace.samples.begin_batch(batch)
    try:
        with torch.set_grad_enabled(backward):
            logits = trace.adapter.logits(batch.inputs)
            if trace.samples is not None:
                trace.samples.end_batch()
            if backward and batch.n_targets > 0:
                _backward(trace, hooks, summed_loss(logits, batch, loss_fn), batch)
            del logits
    finally:
        hooks.end_batch()


def _backward(trace: LayerTrace, hooks: TraceHooks, loss: torch.Tensor, batch: CalibrationBatch) -> None:
    if not loss.requires_grad:
        raise ModelError("the loss does not depend on the layers; a custom `loss_fn` must not detach the logits.")
    layers = range(trace.num_layers) if trace.gradients else range(0)
    params = [[p for _, p in trace.adapter.layer_parameters(i)] for i in layers]
    recorded = list(hooks.outputs) if trace.gates else []
    missing = [i for i, o in enumerate(recorded) if o is None]
    if missing:
        raise ModelError(f"layers {missing} did not run in the forward pass; check the `layers` path.")
    outputs = [o for o in recorded if o is not None]
    inputs: list[torch.Tensor] = [p for group in params for p in group] + outputs
    grads = list(torch.autograd.grad(loss, inputs, allow_unused=True))
    if trace.gradients is not None:
        for layer, group in enumerate(params):
            trace.gradients.update(layer, group, grads[: len(group)])
            del grads[: len(group)]
    if trace.gates is not None:
        deltas = [d for d in hooks.deltas if d is not None]  # kept with each output, so none is missing
        for layer, (grad, delta) in enumerate(zip(grads, deltas, strict=True)):
            trace.gates.update(layer, grad, delta, batch.valid)


def _count(trace: LayerTrace, batch: CalibrationBatch) -> None:
    trace.n_batches += 1
    trace.n_rows += batch.n_rows
    trace.n_tokens += batch.n_tokens
    trace.n_targets += batch.n_targets


def _check_counts(trace: LayerTrace, needs_targets: bool) -> None:
    if trace.n_batches == 0:
        raise DataError("`batches` must contain at least one batch; got none.")
    if trace.n_tokens == 0:
        raise DataError("calibration batches must contain at least one non-padding token; got none.")
    if needs_targets and trace.n_targets == 0:
        raise DataError("calibration batches must contain at least one token with a loss target; got none.")


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Put ``model`` in eval mode (no dropout) for the block, then restore its training flag."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


@contextmanager
def _layer_grads_enabled(layers: nn.ModuleList) -> Iterator[None]:
    params = list(layers.parameters())
    flags = [p.requires_grad for p in params]
    try:
        for p in params:
            p.requires_grad_(True)
        yield
    finally:
        for p, flag in zip(params, flags, strict=True):
            p.requires_grad_(flag)
