"""Strict JSON: NaN and infinities become ``null``, never the ``NaN``/``Infinity`` literals strict parsers reject."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def nan_to_none(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, +-inf) inside dicts, lists and tuples replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {key: nan_to_none(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [nan_to_none(item) for item in value]
    if hasattr(value, "item") and hasattr(value, "dtype") and getattr(value, "ndim", None) == 0:
        return nan_to_none(value.item())  # numpy and torch scalars
    return value
