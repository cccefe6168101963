"""Sampling rows from a TabularGPT: batched, KV-cached, constrained per position.

At each step the logits are masked to the tokens allowed at that position, so
every sampled sequence decodes into a valid row: there is no rejection loop.
"""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn

from fuseprune.config import check_range
from fuseprune.progress import Progress, or_null
from fuseprune.tabular.codec import BOS_ID, TableCodec
from fuseprune.tabular.model import TabularGPT

DEFAULT_BATCH_SIZE = 512


@torch.inference_mode()
def sample_ids(
    model: nn.Module,
    codec: TableCodec,
    n_rows: int,
    *,
    seed: int = 0,
    batch_size: int = DEFAULT_BATCH_SIZE,
    temperature: float = 1.0,
    progress: Progress | None = None,
) -> torch.Tensor:
    """Sample ``n_rows`` token sequences (n_rows, sequence_length); same seed, same rows."""
    check_range("n_rows", n_rows, 1, float("inf"))
    check_range("batch_size", batch_size, 1, float("inf"))
    check_range("temperature", temperature, 0.0, float("inf"), low_open=True)
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    static = codec.allowed_mask()
    progress = or_null(progress)
    progress.start("sampling", n_rows)
    chunks = []
    for start in range(0, n_rows, batch_size):
        size = min(batch_size, n_rows - start)
        chunks.append(_sample_batch(model, codec, static, size, generator, temperature))
        progress.advance(size)
    progress.stop()
    model.train(was_training)
    return torch.cat(chunks)


def _sample_batch(
    model: nn.Module, codec: TableCodec, static: torch.Tensor, size: int, generator: torch.Generator, temperature: float
) -> torch.Tensor:
    ids = torch.full((size, codec.sequence_length), BOS_ID, dtype=torch.long)
    past = None
    for step in range(codec.sequence_length - 1):
        out = model(input_ids=ids[:, step : step + 1], past_key_values=past, use_cache=True)
        past = out.past_key_values
        logits = out.logits[:, -1].float() / temperature
        logits = logits.masked_fill(~codec.allowed_next(ids[:, : step + 1], static), float("-inf"))
        ids[:, step + 1] = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator).squeeze(1)
    return ids


def sample_rows(
    bundle: TabularGPT,
    n_rows: int,
    *,
    seed: int = 0,
    batch_size: int = DEFAULT_BATCH_SIZE,
    temperature: float = 1.0,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Sample ``n_rows`` rows as a DataFrame with the original column names and dtypes."""
    ids = sample_ids(
        bundle.model, bundle.codec, n_rows, seed=seed, batch_size=batch_size, temperature=temperature, progress=progress
    )
    return bundle.codec.decode(ids)
