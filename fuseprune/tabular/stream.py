"""Sampling at scale: many rows streamed to a CSV or Parquet file, in this process, worker processes or Ray tasks.

The rows are cut into chunks of ``chunk_rows``; each chunk is sampled (as token
ids) by whoever the backend picks and written to the file in order, so peak
memory does not grow with the number of rows. Row ``r`` of a seed is the same
row however the work is split: the noise that draws it depends only on (seed,
r) (see :mod:`fuseprune.tabular.noise`), so ``--jobs``, ``--backend``,
``chunk_rows`` and the batch size change who computes a row, never the row.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fuseprune.app_config import CHUNK_ROWS as CHUNK_ROWS
from fuseprune.app_config import ScaleConfig as ScaleConfig
from fuseprune.outputs import SAMPLES, check_file
from fuseprune.progress import Progress, or_null
from fuseprune.tabular.model import TabularGPT
from fuseprune.tabular.runners import RUNNERS, Chunk, ModelSource
from fuseprune.tabular.writers import RowWriter, file_format

log = logging.getLogger(__name__)
#: Rows kept in memory to show after sampling.
PREVIEW_ROWS = 10


@dataclass(frozen=True)
class ScaleResult:
    """What :func:`sample_to_file` wrote."""

    path: Path | None
    rows: int
    seconds: float
    head: pd.DataFrame

    @property
    def rows_per_second(self) -> float:
        """Rows sampled and written per second of wall time."""
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


def chunks_of(rows: int, chunk_rows: int) -> list[Chunk]:
    """The chunks covering rows 0..rows-1, in order."""
    return [Chunk(i, start, min(chunk_rows, rows - start)) for i, start in enumerate(range(0, rows, chunk_rows))]


def sample_to_file(
    model: TabularGPT | str | Path | ModelSource,
    path: str | Path | None,
    config: ScaleConfig | None = None,
    progress: Progress | None = None,
    *,
    overwrite: bool = False,
) -> ScaleResult:
    """Sample ``config.rows`` rows into ``path`` (``.csv`` or ``.parquet``), chunk by chunk.

    Args:
        model: A model, or its saved folder (needed for more than one job or for Ray), or both.
        path: The file to write; None samples without writing (only the first rows are kept).
            An existing file is replaced only as :func:`fuseprune.outputs.check_file` allows.
        config: How many rows, which seed, and who samples them.
        progress: Receives one step per row, with the rows per second so far.
        overwrite: Replace a file at ``path`` that fuseprune did not write.

    Returns:
        Where the rows went, how many, how long it took and the first rows.
    """
    config = config or ScaleConfig()
    if path is not None:  # refuse a path that may not be written or an unknown extension before any work
        check_file(path, SAMPLES, overwrite)
        file_format(path)
    source = model if isinstance(model, ModelSource) else ModelSource.of(model)
    codec = source.codec()
    progress = or_null(progress)
    start, head = time.perf_counter(), list[pd.DataFrame]()
    with RUNNERS.get(config.backend)(source, config) as runner:
        writer = RowWriter(path, codec.example_row(), overwrite) if path is not None else None
        with writer if writer is not None else contextlib.nullcontext():
            progress.start("sampling", config.rows)
            try:
                done = 0
                for chunk, ids in runner.run(chunks_of(config.rows, config.chunk_rows)):
                    frame = codec.decode(ids)
                    if sum(len(h) for h in head) < PREVIEW_ROWS:
                        head.append(frame.head(PREVIEW_ROWS))
                    if writer is not None:
                        writer.write(frame)
                    done += chunk.rows
                    progress.advance(chunk.rows, rows_per_s=done / max(time.perf_counter() - start, 1e-9))
            finally:
                progress.stop()
    seconds = time.perf_counter() - start
    preview = pd.concat(head, ignore_index=True).head(PREVIEW_ROWS)
    log.info("sampled %d rows in %.1f s (%.0f rows/s)", config.rows, seconds, config.rows / seconds)
    return ScaleResult(None if path is None else Path(path), config.rows, seconds, preview)
