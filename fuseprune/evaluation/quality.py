"""SDMetrics Quality and Diagnostic reports of synthetic rows against real holdout rows.

The SDMetrics metadata comes from the column kinds (for a model, its codec),
so the report scores columns the way the model encodes them.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from fuseprune.evaluation.metric import Figure, Metric, RealRows, register_metric

TABLE = "table"


@dataclass(frozen=True)
class QualityScores:
    """SDMetrics QualityReport (goal: maximize, range 0..1) and DiagnosticReport scores."""

    quality: float
    column_shapes: float
    column_pair_trends: float
    diagnostic: float


def sdmetrics_metadata(kinds: Mapping[str, str] | Any) -> dict[str, Any]:
    """SDMetrics single-table metadata from column kinds (or from a codec's ``metadata()``)."""
    if hasattr(kinds, "metadata"):
        return kinds.metadata()
    return {"columns": {name: {"sdtype": kind} for name, kind in kinds.items()}}


def score_rows(real: pd.DataFrame, synthetic: pd.DataFrame, kinds: Mapping[str, str] | Any) -> QualityScores:
    """Score ``synthetic`` rows against ``real`` rows with both SDMetrics reports.

    Args:
        real: The real rows (the holdout).
        synthetic: The rows to judge.
        kinds: Column name -> kind, or a ``TableCodec``.
    """
    from sdmetrics.reports import DiagnosticReport, QualityReport

    metadata = {"tables": {TABLE: sdmetrics_metadata(kinds)}}
    real_tables, synthetic_tables = {TABLE: real}, {TABLE: synthetic}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quality = QualityReport()
        quality.generate(real_tables, synthetic_tables, metadata, verbose=False)
        diagnostic = DiagnosticReport()
        diagnostic.generate(real_tables, synthetic_tables, metadata, verbose=False)
    properties = dict(zip(*quality.get_properties()[["Property", "Score"]].T.values, strict=True))
    return QualityScores(
        quality=float(quality.get_score()),
        column_shapes=float(properties["Column Shapes"]),
        column_pair_trends=float(properties["Column Pair Trends"]),
        diagnostic=float(diagnostic.get_score()),
    )


@register_metric
class QualityMetric(Metric):
    """SDMetrics QualityReport (column shapes and pair trends) and DiagnosticReport against the holdout."""

    name = "quality"
    rank = 0
    description = "SDMetrics Quality (column shapes, column pair trends) and Diagnostic, against the holdout"
    figures = (
        Figure("quality", "SDMetrics quality", "maximize", 0.0, 1.0, 1.0),
        Figure("column_shapes", "  column shapes", "maximize", 0.0, 1.0, 1.0),
        Figure("column_pair_trends", "  column pair trends", "maximize", 0.0, 1.0, 1.0),
        Figure("diagnostic", "SDMetrics diagnostic", "maximize", 0.0, 1.0, 1.0),
    )

    def compute(self, real: RealRows, synthetic: pd.DataFrame, seed: int) -> dict[str, float]:
        """Both reports of ``synthetic`` against the holdout rows."""
        scores = score_rows(real.holdout, synthetic, real.kinds)
        return {"quality": scores.quality, "column_shapes": scores.column_shapes,
                "column_pair_trends": scores.column_pair_trends, "diagnostic": scores.diagnostic}
