"""Evaluating a TabularGPT: rows sampled per seed and scored by the engine's metrics, plus loss, size and speed.

The metrics (:mod:`fuseprune.evaluation`) work on frames whatever made them;
this app module samples the frames from a TabularGPT, adds its holdout NLL,
parameters, bytes on disk and rows/s, and keeps it all in one
:class:`EvaluationRecord`.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from fuseprune.app_config import DEFAULT_SCORING_ROWS as DEFAULT_SCORING_ROWS
from fuseprune.app_config import MAX_EVAL_ROWS as MAX_EVAL_ROWS
from fuseprune.app_config import MAX_SCORING_ROWS as MAX_SCORING_ROWS
from fuseprune.app_config import EvalConfig as EvalConfig
from fuseprune.data.catalog import target_of
from fuseprune.evaluation.display import record_rows
from fuseprune.evaluation.metric import RealRows
from fuseprune.evaluation.suite import FigureResult, score_samples, select_metrics
from fuseprune.files import directory_bytes
from fuseprune.jsonsafe import nan_to_none
from fuseprune.outputs import EVALUATION, MARKER, write_output_json
from fuseprune.progress import Progress, or_null
from fuseprune.tabular.loss import mean_row_nll
from fuseprune.tabular.model import TabularGPT
from fuseprune.tabular.sampler import sample_rows
from fuseprune.tabular.speed import measure_sampling_speed

if TYPE_CHECKING:
    from rich.console import JustifyMethod

log = logging.getLogger(__name__)
@dataclass(frozen=True)
class EvaluationRecord:
    """Everything measured about one model on one holdout split.

    ``metrics`` maps every figure name to its mean and standard deviation over
    the sampling seeds, the value per seed and the reference (real training
    rows, or other real rows, in the generator's place). The SDMetrics quality
    figures are also kept at the top level, as before (None if ``quality`` was
    not selected); ``ceiling`` is the quality reference. Holdout loss is the
    mean negative log-likelihood of a held-out row in nats (lower is better).
    """

    data: str
    n_rows: int
    seeds: tuple[int, ...]
    quality: float | None
    quality_std: float | None
    quality_per_seed: tuple[float, ...] | None
    column_shapes: float | None
    column_pair_trends: float | None
    diagnostic: float | None
    ceiling: float | None
    ceiling_std: float | None
    holdout_nll: float
    parameters: int
    bytes_on_disk: int
    rows_per_second: float
    speed_batch_size: int
    layers: int
    target: str | None = None
    metrics: dict[str, FigureResult] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict; a figure that could not be measured (NaN) is ``None``."""
        payload = asdict(self)
        payload["metrics"] = {name: figure.to_dict() for name, figure in self.metrics.items()}
        return nan_to_none(payload)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> EvaluationRecord:
        """Rebuild from :meth:`to_dict` output (records written before ``metrics`` existed too)."""
        payload = dict(payload)
        payload["metrics"] = {k: FigureResult.from_dict(v) for k, v in payload.get("metrics", {}).items()}
        for key in ("seeds", "quality_per_seed"):
            if payload.get(key) is not None:
                payload[key] = tuple(payload[key])
        return cls(**payload)

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the record as JSON, atomically (an existing file as :meth:`PrunePlan.save` says)."""
        return write_output_json(path, self.to_dict(), EVALUATION, overwrite)

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(label, better, value, reference) of every figure, then the model's measures, in display order."""
        return record_rows(self)

    def __rich__(self) -> Any:
        from rich.table import Table

        table = Table(title=f"evaluation on {self.data} ({self.n_rows} rows x {len(self.seeds)} seeds)",
                      caption="mean ± sd over sampling seeds; reference: real rows in the generator's place "
                              "(real train vs holdout)")
        justified: tuple[tuple[str, JustifyMethod], ...] = (
            ("measure", "left"), ("better", "left"), ("value", "right"), ("reference", "right")
        )
        for column, justify in justified:
            table.add_column(column, justify=justify)
        for row in self.rows():
            table.add_row(*row)
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
    kinds = {name: spec["sdtype"] for name, spec in bundle.codec.metadata()["columns"].items()}
    target = config.target or target_of(bundle.info.get("data", {}).get("source", data_name)) or None
    real = RealRows(train[list(kinds)], holdout[list(kinds)], kinds, target)
    metrics = select_metrics(config.metrics, real)  # checks the target before any sampling
    n_rows = config.scoring_rows(len(train))
    progress.start("evaluating", len(config.seeds) + 3)
    samples = {}
    for seed in config.seeds:
        samples[seed] = sample_rows(bundle, n_rows, seed=seed, batch_size=config.batch_size or None)
        progress.advance(1)
    figures = score_samples(real, samples, metrics, reference=config.ceiling, progress=progress)
    progress.advance(1)
    nll = mean_row_nll(bundle.model, bundle.codec.encode(holdout), bundle.codec)
    progress.advance(1)
    speed = measure_sampling_speed(
        bundle.model, bundle.codec, n_rows=config.speed_rows, batch_size=config.batch_size or None,
        repeats=config.speed_repeats,
    )
    progress.advance(1)
    progress.stop()
    quality = _quality_fields(figures)
    return EvaluationRecord(
        data=data_name, n_rows=n_rows, seeds=tuple(config.seeds), **quality, holdout_nll=nll,
        parameters=bundle.num_parameters, bytes_on_disk=saved_bytes(bundle), rows_per_second=speed.rows_per_second,
        speed_batch_size=speed.batch_size, layers=bundle.model.config.n_layer, target=target, metrics=figures,
    )


def _quality_fields(figures: dict[str, FigureResult]) -> dict[str, Any]:
    """The top-level SDMetrics fields of the record, from the ``quality`` metric's figures."""
    quality = figures.get("quality")
    if quality is None:
        return dict.fromkeys(("quality", "quality_std", "quality_per_seed", "column_shapes", "column_pair_trends",
                              "diagnostic", "ceiling", "ceiling_std"))
    return {"quality": quality.mean, "quality_std": quality.std, "quality_per_seed": quality.per_seed,
            "column_shapes": figures["column_shapes"].mean, "column_pair_trends": figures["column_pair_trends"].mean,
            "diagnostic": figures["diagnostic"].mean, "ceiling": quality.reference,
            "ceiling_std": quality.reference_std}


def saved_bytes(bundle: TabularGPT) -> int:
    """Bytes the model folder takes on disk (weights, config, codec), measured by saving it."""
    with tempfile.TemporaryDirectory() as tmp:
        return directory_bytes(bundle.save(Path(tmp) / "model"), keep=lambda p: p.name != MARKER)
