"""Measuring generated rows against real rows, each figure beside its real-data reference.

The families: quality, utility, correlations, detection, fidelity and privacy.

Every metric is a registered family of figures computed from frames only
(real training rows, real holdout rows, synthetic rows, column kinds),
whatever model made them; see :mod:`fuseprune.evaluation.metric`.
``list_metrics()`` names them all. Evaluating a TabularGPT (sampling the rows,
its loss, size and speed) is the tabular app's :func:`fuseprune.tabular.evaluate`.
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
from fuseprune.evaluation.suite import FigureResult, score_samples, select_metrics


def list_metrics() -> list[str]:
    """Names of every registered metric, in display order."""
    return list(all_metrics())


__all__ = [
    "METRICS",
    "Figure",
    "FigureResult",
    "Metric",
    "QualityScores",
    "RealRows",
    "all_metrics",
    "default_metrics",
    "list_metrics",
    "register_metric",
    "resolve_metrics",
    "score_rows",
    "score_samples",
    "select_metrics",
]
