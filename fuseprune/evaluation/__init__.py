"""Measuring a tabular generator: SDMetrics quality against real holdout rows, loss, size, speed."""

from __future__ import annotations

from fuseprune.evaluation.quality import QualityScores, score_rows
from fuseprune.evaluation.report import EvalConfig, EvaluationRecord, evaluate, saved_bytes
from fuseprune.evaluation.speed import SpeedResult, measure_sampling_speed

__all__ = [
    "EvalConfig",
    "EvaluationRecord",
    "QualityScores",
    "SpeedResult",
    "evaluate",
    "measure_sampling_speed",
    "saved_bytes",
    "score_rows",
]
