"""Correlation-matrix divergence: do synthetic rows keep the associations between columns?

The association matrix of a table holds, for every pair of columns:

- two numerical columns: Pearson's r (signed, -1..1), on the rows where both
  are present;
- two categorical (or boolean) columns: Cramer's V (0..1), bias-uncorrected:
  ``sqrt(chi2 / (n * (min(rows, columns) - 1)))`` of their contingency table,
  a missing value counting as a category of its own;
- a numerical and a categorical column: the correlation ratio eta (0..1),
  ``sqrt(between-group sum of squares / total sum of squares)`` of the
  numbers grouped by category, on the rows where the number is present.

An association that is undefined (a constant column, fewer than two rows) is 0.
The diagonal is 1. The figures compare the holdout's matrix with the synthetic
rows' matrix: ``corr_mae`` is the mean absolute difference over the pairs of
distinct columns (0 is perfect, at most 2), ``corr_frobenius`` the Frobenius
norm of the whole difference matrix (each pair counted twice, the diagonal
never differs).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from fuseprune.evaluation.metric import Figure, Metric, RealRows, register_metric

MISSING = "\x00missing"


def association_matrix(frame: pd.DataFrame, kinds: Mapping[str, str]) -> pd.DataFrame:
    """The mixed-type association matrix of ``frame`` (columns and index in ``kinds`` order)."""
    names = list(kinds)
    numeric = [kinds[n] == "numerical" for n in names]
    values = [
        _numbers(frame[n]) if is_number else _labels(frame[n]) for n, is_number in zip(names, numeric, strict=True)
    ]
    matrix = np.eye(len(names))
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            matrix[i, j] = matrix[j, i] = _pair(values[i], values[j], numeric[i], numeric[j])
    return pd.DataFrame(matrix, index=names, columns=names)


def association(x: pd.Series, y: pd.Series, kind_x: str, kind_y: str) -> float:
    """Pearson's r, Cramer's V or the correlation ratio of two columns, by their kinds."""
    numeric_x, numeric_y = kind_x == "numerical", kind_y == "numerical"
    return _pair(_numbers(x) if numeric_x else _labels(x), _numbers(y) if numeric_y else _labels(y),
                 numeric_x, numeric_y)


def _pair(x: np.ndarray, y: np.ndarray, numeric_x: bool, numeric_y: bool) -> float:
    if numeric_x and numeric_y:
        return pearson(x, y)
    if not numeric_x and not numeric_y:
        return cramers_v(x, y)
    return correlation_ratio(y, x) if numeric_x else correlation_ratio(x, y)


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's r on the rows where both are present; 0 if either is constant."""
    present = ~(np.isnan(x) | np.isnan(y))
    x, y = x[present], y[present]
    if len(x) < 2:
        return 0.0
    dx, dy = x - x.mean(), y - y.mean()
    denominator = np.sqrt((dx * dx).sum() * (dy * dy).sum())
    return float((dx * dy).sum() / denominator) if denominator > 0 else 0.0


def cramers_v(x: np.ndarray, y: np.ndarray) -> float:
    """Bias-uncorrected Cramer's V of two label arrays; 0 if either has one label."""
    table = pd.crosstab(x, y).to_numpy(dtype=float)
    n, smaller = table.sum(), min(table.shape)
    if smaller < 2 or n == 0:
        return 0.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / n
    chi2 = ((table - expected) ** 2 / expected).sum()
    return float(np.sqrt(chi2 / (n * (smaller - 1))))


def correlation_ratio(labels: np.ndarray, numbers: np.ndarray) -> float:
    """eta: how much of the numbers' variance the labels explain; rows with a missing number are left out."""
    present = ~np.isnan(numbers)
    labels, numbers = labels[present], numbers[present]
    if len(numbers) < 2:
        return 0.0
    total = ((numbers - numbers.mean()) ** 2).sum()
    if total <= 0:
        return 0.0
    groups = pd.Series(numbers).groupby(labels)
    between = (groups.count() * (groups.mean() - numbers.mean()) ** 2).sum()
    return float(np.sqrt(min(between / total, 1.0)))


def divergence(real: pd.DataFrame, synthetic: pd.DataFrame, kinds: Mapping[str, str]) -> dict[str, float]:
    """``corr_mae`` and ``corr_frobenius`` between the two frames' association matrices."""
    if len(kinds) < 2:
        return {}
    difference = (association_matrix(real, kinds) - association_matrix(synthetic, kinds)).to_numpy()
    upper = np.triu_indices(len(kinds), k=1)
    return {"corr_mae": float(np.abs(difference[upper]).mean()),
            "corr_frobenius": float(np.linalg.norm(difference, "fro"))}


@register_metric
class CorrelationMetric(Metric):
    """Divergence of the mixed-type association matrices of holdout and synthetic rows."""

    name = "correlation"
    rank = 20
    description = "correlation-matrix divergence (Pearson, Cramer's V, correlation ratio) from the holdout's"
    figures = (
        Figure("corr_mae", "correlation: mean |difference|", "minimize", 0.0, 2.0, 0.0),
        Figure("corr_frobenius", "correlation: Frobenius norm", "minimize", 0.0, np.inf, 0.0),
    )

    def compute(self, real: RealRows, synthetic: pd.DataFrame, seed: int) -> dict[str, float]:
        """Divergence of ``synthetic``'s associations from the holdout's."""
        return divergence(real.holdout, synthetic, real.kinds)


def _numbers(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _labels(series: pd.Series) -> np.ndarray:
    return np.asarray([MISSING if pd.isna(v) else str(v) for v in series.astype(object)], dtype=object)
