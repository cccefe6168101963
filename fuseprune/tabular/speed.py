"""Sampling speed: rows per second, the median of repeated timed runs at a stated batch size."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from torch import nn

from fuseprune.tabular.interface import Codec
from fuseprune.tabular.sampler import default_batch_size, sample_ids


@dataclass(frozen=True)
class SpeedResult:
    """Rows per second of sampling (goal: maximize)."""

    rows_per_second: float
    runs: tuple[float, ...]
    n_rows: int
    batch_size: int


def measure_sampling_speed(
    model: nn.Module, codec: Codec, *, n_rows: int = 1024, batch_size: int | None = None, repeats: int = 5
) -> SpeedResult:
    """Time sampling ``n_rows`` rows ``repeats`` times (after one warm-up run) and take the median.

    ``batch_size`` None is the sampler's default for the model's width.
    """
    batch_size = default_batch_size(model, codec.sequence_length) if batch_size is None else batch_size
    sample_ids(model, codec, min(n_rows, batch_size), seed=0, batch_size=batch_size)  # warm-up
    runs = []
    for repeat in range(repeats):
        start = time.perf_counter()
        sample_ids(model, codec, n_rows, seed=repeat, batch_size=batch_size)
        runs.append(n_rows / (time.perf_counter() - start))
    return SpeedResult(statistics.median(runs), tuple(runs), n_rows, batch_size)
