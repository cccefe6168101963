"""One evaluation record of a model: quality beside its ceiling, loss, size and speed."""

from __future__ import annotations

import logging
import statistics
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fuseprune.config import ConfigMixin, check_range
from fuseprune.errors import ConfigError
from fuseprune.evaluation.quality import QualityScores, score_rows
from fuseprune.evaluation.speed import measure_sampling_speed
from fuseprune.files import directory_bytes, write_json_atomic
from fuseprune.progress import Progress, or_null
from fuseprune.tabular.loss import mean_row_nll
from fuseprune.tabular.model import TabularGPT
from fuseprune.tabular.sampler import sample_rows

log = logging.getLogger(__name__)
#: Rows sampled per seed for scoring when not asked: the training split's size, at most this many.
DEFAULT_SCORING_ROWS = 2000
#: The most rows sampled per seed for scoring, whatever is asked (`evaluate --rows`, `EvalConfig.n_rows`).
MAX_SCORING_ROWS = 20_000


@dataclass(frozen=True)
class EvalConfig(ConfigMixin):
    """How a model is evaluated."""

    seeds: tuple[int, ...] = field(default=(0, 1, 2), metadata={"help": "sampling seeds; quality is their mean"})
    n_rows: int = field(default=0, metadata={"help": "rows sampled per seed for scoring (0 = as many as the training "
                                                   f"split, at most {DEFAULT_SCORING_ROWS}; never more than {MAX_SCORING_ROWS})"})
    speed_rows: int = field(default=1024, metadata={"help": "rows sampled per timed speed run"})
    speed_repeats: int = field(default=5, metadata={"help": "timed speed runs; rows/s is their median"})
    batch_size: int = field(default=0, metadata={"help": "rows sampled at once (0 = the fastest for the model's width)"})
    ceiling: bool = field(default=True, metadata={"help": "also score real training rows against the holdout (the ceiling)"})

    def __post_init__(self) -> None:
        if not self.seeds:
            raise ConfigError("`seeds` must name at least one seed; got none.")
        check_range("n_rows", self.n_rows, 0, float("inf"))
        check_range("speed_rows", self.speed_rows, 1, float("inf"))
        check_range("speed_repeats", self.speed_repeats, 1, 1000)
        check_range("batch_size", self.batch_size, 0, float("inf"))

    def scoring_rows(self, train_rows: int) -> int:
        """Rows sampled per seed for scoring: ``n_rows`` (or the training split's size), capped; a cap is logged."""
        wanted = self.n_rows or min(train_rows, DEFAULT_SCORING_ROWS)
        if wanted > MAX_SCORING_ROWS:
            log.warning("scoring %d sampled rows per seed, not %d: SDMetrics' cost grows with the rows and its "
                        "scores settle long before; sample more with `fuseprune sample`", MAX_SCORING_ROWS, wanted)
        return min(wanted, MAX_SCORING_ROWS)


@dataclass(frozen=True)
class EvaluationRecord:
    """Everything measured about one model on one holdout split.

    Quality figures are SDMetrics scores in 0..1 (higher is better), the mean
    over sampling seeds with their standard deviation; the ceiling is the same
    score for real training rows against the holdout. Holdout loss is the mean
    negative log-likelihood of a held-out row in nats (lower is better).
    """

    data: str
    n_rows: int
    seeds: tuple[int, ...]
    quality: float
    quality_std: float
    quality_per_seed: tuple[float, ...]
    column_shapes: float
    column_pair_trends: float
    diagnostic: float
    ceiling: float | None
    ceiling_std: float | None
    holdout_nll: float
    parameters: int
    bytes_on_disk: int
    rows_per_second: float
    speed_batch_size: int
    layers: int

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)

    def save(self, path: str | Path) -> Path:
        """Write the record as JSON, atomically."""
        return write_json_atomic(path, self.to_dict())

    def rows(self) -> list[tuple[str, str]]:
        """(label, formatted value) pairs, in display order."""
        return [
            ("SDMetrics quality (mean ± sd)", f"{self.quality:.4f} ± {self.quality_std:.4f}"),
            ("  ceiling: real train vs holdout",
             "not measured" if self.ceiling is None else f"{self.ceiling:.4f} ± {self.ceiling_std:.4f}"),
            ("  column shapes", f"{self.column_shapes:.4f}"),
            ("  column pair trends", f"{self.column_pair_trends:.4f}"),
            ("SDMetrics diagnostic", f"{self.diagnostic:.4f}"),
            ("holdout NLL per row (nats)", f"{self.holdout_nll:.3f}"),
            ("layers", str(self.layers)),
            ("parameters", f"{self.parameters:,}"),
            ("bytes on disk", f"{self.bytes_on_disk:,}"),
            (f"rows/s (median, batch {self.speed_batch_size})", f"{self.rows_per_second:,.0f}"),
        ]

    def __rich__(self) -> Any:
        from rich.table import Table

        table = Table(title=f"evaluation on {self.data} ({self.n_rows} rows x {len(self.seeds)} seeds)")
        table.add_column("measure")
        table.add_column("value", justify="right")
        for label, value in self.rows():
            table.add_row(label, value)
        return table


def evaluate(
    bundle: TabularGPT,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    config: EvalConfig | None = None,
    *,
    data_name: str = "",
    progress: Progress | None = None,
) -> EvaluationRecord:
    """Measure ``bundle`` against the ``holdout`` rows it never trained on."""
    config = config or EvalConfig()
    progress = or_null(progress)
    n_rows = config.scoring_rows(len(train))
    progress.start("evaluating", (2 if config.ceiling else 1) * len(config.seeds) + 2)
    synthetic, ceiling = [], []
    for seed in config.seeds:
        rows = sample_rows(bundle, n_rows, seed=seed, batch_size=config.batch_size or None)
        synthetic.append(score_rows(holdout, rows, bundle.codec))
        progress.advance(1)
        if config.ceiling:
            real = train.sample(n=min(n_rows, len(train)), random_state=seed).reset_index(drop=True)
            ceiling.append(score_rows(holdout, real, bundle.codec).quality)
            progress.advance(1)
    nll = mean_row_nll(bundle.model, bundle.codec.encode(holdout), bundle.codec)
    progress.advance(1)
    speed = measure_sampling_speed(
        bundle.model, bundle.codec, n_rows=config.speed_rows, batch_size=config.batch_size or None,
        repeats=config.speed_repeats,
    )
    progress.advance(1)
    progress.stop()
    return _record(bundle, synthetic, ceiling, nll, speed, config, n_rows, data_name)


def _record(bundle, synthetic: list[QualityScores], ceiling: list[float], nll, speed, config, n_rows, data_name):
    quality = [s.quality for s in synthetic]
    return EvaluationRecord(
        data=data_name,
        n_rows=n_rows,
        seeds=tuple(config.seeds),
        quality=float(np.mean(quality)),
        quality_std=_std(quality),
        quality_per_seed=tuple(quality),
        column_shapes=float(np.mean([s.column_shapes for s in synthetic])),
        column_pair_trends=float(np.mean([s.column_pair_trends for s in synthetic])),
        diagnostic=float(np.mean([s.diagnostic for s in synthetic])),
        ceiling=float(np.mean(ceiling)) if ceiling else None,
        ceiling_std=_std(ceiling) if ceiling else None,
        holdout_nll=nll,
        parameters=bundle.num_parameters,
        bytes_on_disk=saved_bytes(bundle),
        rows_per_second=speed.rows_per_second,
        speed_batch_size=speed.batch_size,
        layers=bundle.model.config.n_layer,
    )


def _std(values: list[float]) -> float:
    return float(statistics.stdev(values)) if len(values) > 1 else 0.0


def saved_bytes(bundle: TabularGPT) -> int:
    """Bytes the model folder takes on disk (weights, config, codec), measured by saving it."""
    with tempfile.TemporaryDirectory() as tmp:
        return directory_bytes(bundle.save(Path(tmp) / "model"))
