"""Frames in the shape SDMetrics' single-table metrics handle, and seeded global randomness for them.

SDMetrics' detection and privacy metrics fill missing numbers with floats and
compare categories as plain values, so they need plain dtypes: numbers as
float64 (no nullable integers), categories as text (a missing one is the text
``nan``). Some of them draw from numpy's global random state; ``numpy_seed``
makes them repeatable without leaving the global state changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd


def plain_frame(frame: pd.DataFrame, kinds: Mapping[str, str]) -> pd.DataFrame:
    """``frame`` with numbers as float64 and categorical or boolean columns as text."""
    columns = {}
    for name, kind in kinds.items():
        series = frame[name]
        if kind == "numerical":
            columns[name] = pd.to_numeric(series, errors="coerce").astype(float).to_numpy()
        else:
            columns[name] = np.asarray(["nan" if pd.isna(v) else str(v) for v in series.astype(object)], dtype=object)
    return pd.DataFrame(columns)


def plain_metadata(kinds: Mapping[str, str]) -> dict[str, Any]:
    """SDMetrics metadata for a :func:`plain_frame`: booleans, now text, are categorical."""
    return {"columns": {name: {"sdtype": "numerical" if kind == "numerical" else "categorical"}
                        for name, kind in kinds.items()}}


@contextmanager
def numpy_seed(seed: int) -> Iterator[None]:
    """Seed numpy's global random state for the block, then restore it."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)
