"""Measuring a tabular generator's rows against real rows: quality, utility, correlations, detection,
fidelity and privacy, each beside its real-data reference; plus the model's loss, size and speed.

Every metric is a registered family of figures computed from frames only
(real training rows, real holdout rows, synthetic rows, column kinds); see
:mod:`fuseprune.evaluation.metric`. ``list_metrics()`` names them all.
"""

from __future__ import annotations

# each metric module registers its metric on import
from fuseprune.evaluation import correlation, detection, fidelity, privacy, sdmetrics_privacy, utility  # noqa: F401
from fuseprune.evaluation.metric import (
    METRICS,
    Figure,
    Metric,
    RealRows,
    all_metrics,
    default_metrics,
    register_metric,
    resolve_metrics,
)
from fuseprune.evaluation.quality import QualityScores, score_rows
from fuseprune.evaluation.report import EvalConfig, EvaluationRecord, evaluate, saved_bytes
from fuseprune.evaluation.speed import SpeedResult, measure_sampling_speed
from fuseprune.evaluation.suite import FigureResult, score_samples, select_metrics


def list_metrics() -> list[str]:
    """Names of every registered metric, in display order."""
    return list(all_metrics())


__all__ = [
    "METRICS",
    "EvalConfig",
    "EvaluationRecord",
    "Figure",
    "FigureResult",
    "Metric",
    "QualityScores",
    "RealRows",
    "SpeedResult",
    "all_metrics",
    "default_metrics",
    "evaluate",
    "list_metrics",
    "measure_sampling_speed",
    "register_metric",
    "resolve_metrics",
    "saved_bytes",
    "score_rows",
    "score_samples",
    "select_metrics",
]
