"""The mixed-type encoding distance-based metrics share: rows of any column kinds as points in R^d.

Fitted on the real training rows, then applied to every frame alike:

- a numerical column becomes ``(x - min) / (max - min)`` with the training
  minimum and maximum (0 for a constant column; values outside the training
  range land outside [0, 1], unclipped). A missing number is replaced by the
  training mean (scaled), and, if the training rows have missing values in
  that column, a 0/1 indicator column records which values were missing;
- a categorical or boolean column becomes one 0/1 column per value seen in
  the training rows, a missing value counting as a value of its own; a value
  the training rows never had is all zeros.

One differing category therefore moves a row by sqrt(2) in Euclidean distance,
and the full range of a numerical column by 1. Distances are Euclidean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

MISSING = "\x00missing"  # the category a missing value is counted as


@dataclass(frozen=True)
class _Numeric:
    name: str
    low: float
    span: float
    mean: float
    indicator: bool


@dataclass(frozen=True)
class _Categorical:
    name: str
    values: tuple[str, ...]


class MixedEncoding:
    """Encode frames as float matrices; see the module docstring.

    Args:
        train: The real training rows the scaling and categories are taken from.
        kinds: Column name -> ``numerical``, ``categorical`` or ``boolean``.
    """

    def __init__(self, train: pd.DataFrame, kinds: Mapping[str, str]) -> None:
        self.columns: list[_Numeric | _Categorical] = []
        for name, kind in kinds.items():
            series = train[name]
            if kind == "numerical":
                numbers = _numbers(series)
                present = numbers[~np.isnan(numbers)]
                low, high = (float(present.min()), float(present.max())) if present.size else (0.0, 0.0)
                mean = float(present.mean()) if present.size else 0.0
                self.columns.append(_Numeric(name, low, high - low, mean, bool(np.isnan(numbers).any())))
            else:
                self.columns.append(_Categorical(name, tuple(sorted(set(_labels(series))))))

    @property
    def width(self) -> int:
        """Number of encoded columns."""
        return sum(1 + c.indicator if isinstance(c, _Numeric) else len(c.values) for c in self.columns)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode ``frame`` (same columns as the training rows) as a (rows, width) float matrix."""
        parts = []
        for column in self.columns:
            if isinstance(column, _Numeric):
                numbers = _numbers(frame[column.name])
                missing = np.isnan(numbers)
                filled = np.where(missing, column.mean, numbers)
                scaled = (filled - column.low) / column.span if column.span > 0 else np.zeros(len(frame))
                parts.append(scaled[:, None])
                if column.indicator:
                    parts.append(missing.astype(float)[:, None])
            else:
                labels = np.asarray(_labels(frame[column.name]), dtype=object)
                parts.append((labels[:, None] == np.asarray(column.values, dtype=object)[None, :]).astype(float))
        return np.concatenate(parts, axis=1) if parts else np.zeros((len(frame), 0))


def _numbers(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _labels(series: pd.Series) -> list[str]:
    """Values as text (``1`` and ``"1"`` are one category, as in a CSV), missing as its own label."""
    return [MISSING if pd.isna(v) else str(v) for v in series.astype(object)]
