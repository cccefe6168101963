"""Shared set-up of the benchmark scripts: a quiet environment and the teacher they measure."""

from __future__ import annotations

import logging
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from fuseprune.data import load_table  # noqa: E402
from fuseprune.progress import quiet_transformers  # noqa: E402
from fuseprune.tabular import TabularGPT, TrainConfig, train_on_table  # noqa: E402


def quiet() -> None:
    """Silence transformers' progress bars and warnings."""
    quiet_transformers()
    logging.basicConfig(level=logging.WARNING)


def teacher(data: str, preset: str, model_dir: str | None) -> TabularGPT:
    """Load the model folder if given (and present), else train ``preset`` on ``data`` and save it there."""
    if model_dir and (Path(model_dir) / "config.json").is_file():
        return TabularGPT.load(model_dir)
    bundle = train_on_table(load_table(data), TrainConfig(preset=preset))
    if model_dir:
        bundle.save(model_dir)
    return bundle


def median_seconds(func: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls of ``func`` (after one warm-up call)."""
    func()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
