"""Scoring a TabularGPT on rows of its table: calibration batches from a frame and the codec-masked loss."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import torch

from fuseprune.app_config import DEFAULT_CALIBRATION_BATCH as DEFAULT_CALIBRATION_BATCH
from fuseprune.app_config import DEFAULT_CALIBRATION_ROWS as DEFAULT_CALIBRATION_ROWS
from fuseprune.config import check_range
from fuseprune.errors import DataError
from fuseprune.progress import Progress
from fuseprune.scoring import ScoreTable, score_layers
from fuseprune.tabular.interface import Codec
from fuseprune.tabular.loss import tabular_loss_fn
from fuseprune.tabular.model import TabularGPT


def calibration_batches(
    codec: Codec,
    frame: pd.DataFrame,
    n_rows: int = DEFAULT_CALIBRATION_ROWS,
    batch_size: int = DEFAULT_CALIBRATION_BATCH,
    seed: int = 0,
) -> list[dict[str, torch.Tensor]]:
    """Encode a seeded sample of ``n_rows`` rows (all if fewer) into batches of full token rows."""
    check_range("n_rows", n_rows, 1, float("inf"))
    check_range("batch_size", batch_size, 1, float("inf"))
    if len(frame) == 0:
        raise DataError("calibration data is empty; pass a table with at least one row.")
    rows = frame.sample(n=min(n_rows, len(frame)), random_state=seed) if n_rows < len(frame) else frame
    ids = codec.encode(rows.reset_index(drop=True))
    return [{"input_ids": chunk} for chunk in ids.split(batch_size)]


def score_tabular(
    bundle: TabularGPT,
    frame: pd.DataFrame,
    signals: Sequence[str] | str | None = None,
    *,
    n_rows: int = DEFAULT_CALIBRATION_ROWS,
    batch_size: int = DEFAULT_CALIBRATION_BATCH,
    seed: int = 0,
    progress: Progress | None = None,
) -> ScoreTable:
    """Score every layer of ``bundle`` on calibration rows from ``frame`` with its constrained loss."""
    batches = calibration_batches(bundle.codec, frame, n_rows, batch_size, seed)
    return score_layers(
        bundle.model, batches, signals, seed=seed, loss_fn=tabular_loss_fn(bundle.codec), progress=progress
    )
