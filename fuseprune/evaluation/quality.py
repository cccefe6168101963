"""SDMetrics Quality and Diagnostic reports of synthetic rows against real holdout rows.

The SDMetrics metadata comes from the codec (each column's kind), so the
report scores columns the way the model encodes them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import pandas as pd

from fuseprune.tabular.codec import TableCodec

TABLE = "table"


@dataclass(frozen=True)
class QualityScores:
    """SDMetrics QualityReport (goal: maximize, range 0..1) and DiagnosticReport scores."""

    quality: float
    column_shapes: float
    column_pair_trends: float
    diagnostic: float


def score_rows(real: pd.DataFrame, synthetic: pd.DataFrame, codec: TableCodec) -> QualityScores:
    """Score ``synthetic`` rows against ``real`` rows with both SDMetrics reports."""
    from sdmetrics.reports import DiagnosticReport, QualityReport

    metadata = {"tables": {TABLE: codec.metadata()}}
    real, synthetic = {TABLE: real}, {TABLE: synthetic}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quality = QualityReport()
        quality.generate(real, synthetic, metadata, verbose=False)
        diagnostic = DiagnosticReport()
        diagnostic.generate(real, synthetic, metadata, verbose=False)
    properties = dict(zip(*quality.get_properties()[["Property", "Score"]].T.values))
    return QualityScores(
        quality=float(quality.get_score()),
        column_shapes=float(properties["Column Shapes"]),
        column_pair_trends=float(properties["Column Pair Trends"]),
        diagnostic=float(diagnostic.get_score()),
    )
