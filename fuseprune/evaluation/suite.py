"""Scoring rows with many metrics over sampling seeds: every figure's mean, spread and real-data reference.

This is the model-agnostic entry point: it takes frames (real training rows,
real holdout rows, synthetic rows per sampling seed), never a model.
References depend only on the real rows, the metric, the row count and the
seed, so they are computed once per process and reused (a teacher and its
student are judged against the same references). Metrics run with one BLAS
thread: they fit small models (SDMetrics' logistic regression among them),
which extra BLAS threads only slow down (3x on two busy cores).
"""

from __future__ import annotations

import logging
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from fuseprune.evaluation.metric import METRICS, Metric, RealRows, resolve_metrics
from fuseprune.progress import Progress, or_null

log = logging.getLogger(__name__)
_REFERENCES: dict[tuple[str, str, int, int], dict[str, float]] = {}
_MAX_CACHED = 256


@dataclass(frozen=True)
class FigureResult:
    """One figure over sampling seeds, with the reference beside it.

    Attributes:
        metric: The metric family that computes it.
        goal: ``maximize``, ``minimize`` or ``target`` (closest to ``ideal``).
        ideal: A perfect generator's value, if there is one.
        mean: Mean over the seeds where the figure is defined (None if none).
        std: Sample standard deviation over those seeds (0 for one seed).
        per_seed: The value of each seed, in seed order (None where undefined).
        reference: Mean over seeds of the same figure for real rows in the
            generator's place (None if not measured).
        reference_std: Its standard deviation.
    """

    metric: str
    goal: str
    ideal: float | None
    mean: float | None
    std: float | None
    per_seed: tuple[float | None, ...]
    reference: float | None = None
    reference_std: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (lists, no NaN)."""
        payload = asdict(self)
        payload["per_seed"] = list(self.per_seed)
        return payload

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> FigureResult:
        """Rebuild from :meth:`to_dict` output."""
        return cls(**{**payload, "per_seed": tuple(payload["per_seed"])})


def select_metrics(names: Iterable[str], real: RealRows) -> list[Metric]:
    """The metrics ``names`` asks for, checked on ``real`` (one-line errors before any work).

    ``utility`` needs a target: asked for by name without one it is an error;
    reached through ``default`` or ``all`` it is left out (logged).
    """
    names = list(names)
    metrics = []
    for name in resolve_metrics(names):
        if name == "utility" and real.target is None and "utility" not in names:
            log.warning("utility is not measured: the data has no known target (pass --target COLUMN)")
            continue
        metric = METRICS.get(name)()
        metric.check(real)
        metrics.append(metric)
    return metrics


def score_samples(
    real: RealRows,
    samples: Mapping[int, pd.DataFrame],
    metrics: Sequence[Metric],
    *,
    reference: bool = True,
    progress: Progress | None = None,
) -> dict[str, FigureResult]:
    """Score the synthetic rows of every seed with every metric.

    Args:
        real: The real rows.
        samples: Sampling seed -> the synthetic rows drawn with it.
        metrics: Metrics from :func:`select_metrics`.
        reference: Also measure real rows in the generator's place.
        progress: Progress reports, one step per (metric, seed).
    """
    from threadpoolctl import threadpool_limits

    progress = or_null(progress)
    progress.start("scoring", len(metrics) * len(samples))
    figures: dict[str, FigureResult] = {}
    for metric in metrics:
        values, references = [], []
        for seed, rows in samples.items():
            with threadpool_limits(limits=1, user_api="blas"):
                values.append(metric.compute(real, rows, seed))
                if reference:
                    references.append(_reference(metric, real, len(rows), seed))
            progress.advance(1, metric=metric.name)
        for figure in metric.figures:
            if any(figure.name in v for v in values):
                figures[figure.name] = _summarise(metric, figure.name, values, references)
    progress.stop()
    return figures


def _reference(metric: Metric, real: RealRows, n_rows: int, seed: int) -> dict[str, float]:
    key = (real.fingerprint, metric.name, n_rows, seed)
    if key not in _REFERENCES:
        if len(_REFERENCES) >= _MAX_CACHED:
            _REFERENCES.clear()
        _REFERENCES[key] = metric.reference(real, n_rows, seed)
    return _REFERENCES[key]


def _summarise(metric: Metric, name: str, values: list[dict], references: list[dict]) -> FigureResult:
    figure = metric.figure(name)
    per_seed = tuple(_finite(v.get(name)) for v in values)
    reference = [_finite(r.get(name)) for r in references]
    mean, std = _mean_std(per_seed)
    reference_mean, reference_std = _mean_std(reference)
    return FigureResult(metric.name, figure.goal, figure.ideal, mean, std, per_seed, reference_mean, reference_std)


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _mean_std(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    present = [v for v in values if v is not None]
    if not present:
        return None, None
    return float(statistics.fmean(present)), float(statistics.stdev(present)) if len(present) > 1 else 0.0
