"""Sampling rows from a TabularGPT: batched, KV-cached, constrained per position.

At each step the logits are restricted to the tokens allowed at that position
(the codec's precomputed tables, see :mod:`fuseprune.tabular.constraints`), so every
sampled sequence decodes into a valid row: there is no rejection loop. Tokens
are drawn by Gumbel-max with counter-based noise (:mod:`fuseprune.tabular.noise`),
which draws exactly from the softmax of the allowed logits and makes row ``r``
of a seed the same however the rows are batched, chunked or split over
processes. GPT-2 models are decoded by a lean engine over the model's own
weights (:mod:`fuseprune.tabular.decoder`); other models by their own forward pass.
Rows of a batch that share their first tokens (all share BOS; often the first
columns have few values) share the work of those steps.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import torch
from torch import nn

from fuseprune.config import check_range
from fuseprune.progress import Progress, or_null
from fuseprune.tabular.codec import BOS_ID
from fuseprune.tabular.constraints import PositionTables
from fuseprune.tabular.decoder import Stepper, make_stepper
from fuseprune.tabular.interface import Codec
from fuseprune.tabular.model import TabularGPT
from fuseprune.tabular.noise import gumbel

#: While at most this share of a batch's rows have distinct prefixes (BOS alone, then the first
#: columns' few values), each step is computed once per distinct prefix and shared.
SHARED_PREFIX_SHARE = 0.75
#: Rows decoded at once when the caller does not say, by model width: the fastest on two CPU cores
#: (bigger batches also share more prefixes) ...
BATCH_BY_WIDTH = ((256, 2048), (float("inf"), 1024))
#: ... unless the key/value cache of a batch would take more bytes than this.
CACHE_BYTES = 512 * 2**20


def _config_int(config: Any, names: tuple[str, ...], default: int) -> int:
    """The first of the config fields ``names`` that is set (not 0 or None), else ``default``."""
    for name in names:
        value = getattr(config, name, None)
        if value:
            return int(value)
    return default


def default_batch_size(model: nn.Module, length: int | None = None) -> int:
    """Rows per batch that sample fastest for a model of this width, within the cache budget for ``length`` tokens."""
    config = getattr(model, "config", None)
    width = _config_int(config, ("n_embd", "hidden_size"), 768)
    layers = _config_int(config, ("n_layer", "num_hidden_layers"), 12)
    length = length or _config_int(config, ("n_positions",), 64)
    rows = next(rows for limit, rows in BATCH_BY_WIDTH if width <= limit)
    per_row = 2 * layers * length * width * 4  # keys and values, float32
    return max(1, min(rows, CACHE_BYTES // per_row))


class RowSampler:
    """Samples token rows of one model; its constraint tables and decoder buffers are reused across calls."""

    def __init__(self, model: nn.Module, codec: Codec) -> None:
        self.model, self.codec = model, codec
        self.tables = codec.constraint_tables()
        self._stepper: Stepper | None = None

    def sample(
        self,
        n_rows: int,
        *,
        seed: int = 0,
        batch_size: int | None = None,
        temperature: float = 1.0,
        first_row: int = 0,
        progress: Progress | None = None,
    ) -> torch.Tensor:
        """Rows first_row..first_row+n_rows-1 of the seed's stream as token ids (n_rows, sequence_length)."""
        model, codec = self.model, self.codec
        check_range("n_rows", n_rows, 1, float("inf"))
        check_range("first_row", first_row, 0, float("inf"))
        batch_size = default_batch_size(model, codec.sequence_length) if batch_size is None else batch_size
        check_range("batch_size", batch_size, 1, float("inf"))
        check_range("temperature", temperature, 0.0, float("inf"), low_open=True)
        was_training = model.training
        model.eval()
        self._stepper = self._stepper or make_stepper(model)
        progress = or_null(progress)
        progress.start("sampling", n_rows)
        ids = torch.empty(n_rows, codec.sequence_length, dtype=torch.long)
        try:
            with torch.inference_mode():
                for start in range(0, n_rows, batch_size):
                    size = min(batch_size, n_rows - start)
                    noise = gumbel(seed, first_row + start, size, codec.sequence_length - 1, self.tables.width)
                    ids[start : start + size] = _sample_batch(self._stepper, self.tables, noise, temperature)
                    progress.advance(size)
        finally:
            progress.stop()
            model.train(was_training)
        return ids


def sample_ids(
    model: nn.Module,
    codec: Codec,
    n_rows: int,
    *,
    seed: int = 0,
    batch_size: int | None = None,
    temperature: float = 1.0,
    first_row: int = 0,
    progress: Progress | None = None,
) -> torch.Tensor:
    """Sample rows first_row..first_row+n_rows-1 of the seed's stream as token ids (n_rows, sequence_length).

    The same (seed, row index) always gives the same row, whatever ``batch_size``.
    """
    return RowSampler(model, codec).sample(n_rows, seed=seed, batch_size=batch_size, temperature=temperature,
                                           first_row=first_row, progress=progress)


def _sample_batch(stepper: Stepper, tables: PositionTables, noise: torch.Tensor, temperature: float) -> torch.Tensor:
    """Decode one batch: at each position, Gumbel-max over the allowed tokens."""
    rows = noise.shape[1]
    ids = torch.empty(rows, len(tables.low) + 1, dtype=torch.long)
    ids[:, 0] = BOS_ID
    state = torch.full((rows,), tables.start, dtype=torch.long)
    # rows with equal tokens so far have equal numbers here; None once sharing no longer pays (_groups)
    prefix: torch.Tensor | None = torch.zeros(rows, dtype=torch.long)
    stepper.reset(rows, len(tables.low) + 1)
    for t, (low, high) in enumerate(zip(tables.low, tables.high, strict=True)):
        groups = _groups(prefix, rows) if prefix is not None else None
        prefix = None if groups is None else groups[1]
        logits = stepper.logits(ids[:, t], t, low, high, groups)
        scores = torch.add(noise[t, :, : high - low], logits, alpha=1.0 / temperature)
        bias = tables.bias[t]
        scores.add_(bias[0] if len(bias) == 1 else bias[state])
        choice = scores.argmax(dim=1)
        ids[:, t + 1] = choice + low
        following = tables.next_state[t]
        state = following[0, choice] if len(following) == 1 else following[state, choice]
        if prefix is not None:
            prefix = prefix * (high - low) + choice
    return ids


def _groups(prefix: torch.Tensor, rows: int) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(a representative row per distinct prefix, the group of every row), or None when sharing no longer pays."""
    _, inverse = torch.unique(prefix, return_inverse=True)
    groups = int(inverse.max()) + 1
    if groups > rows * SHARED_PREFIX_SHARE:
        return None
    return torch.empty(groups, dtype=torch.long).scatter_(0, inverse, torch.arange(rows)), inverse


def sample_rows(
    bundle: TabularGPT,
    n_rows: int,
    *,
    seed: int = 0,
    batch_size: int | None = None,
    temperature: float = 1.0,
    first_row: int = 0,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Sample ``n_rows`` rows as a DataFrame with the original column names and dtypes."""
    ids = sample_ids(bundle.model, bundle.codec, n_rows, seed=seed, batch_size=batch_size,
                     temperature=temperature, first_row=first_row, progress=progress)
    return bundle.codec.decode(ids)
