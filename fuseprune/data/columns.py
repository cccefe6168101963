"""Column types: what each column of a table means for encoding and for evaluation.

Three kinds, the same ones SDMetrics uses:

- ``categorical``: a fixed set of values (text labels, codes, small integers
  the user wants treated as labels);
- ``numerical``: numbers, integer or real;
- ``boolean``: true/false.

Types are inferred from pandas dtypes and can be overridden per column.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from pandas.api import types as ptypes

from fuseprune.errors import DataError

COLUMN_KINDS = ("categorical", "numerical", "boolean")


def infer_column_kinds(
    frame: pd.DataFrame, overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return the kind of every column of ``frame``, with ``overrides`` taking precedence.

    Args:
        frame: The table.
        overrides: Column name -> kind for columns whose inferred kind is wrong.

    Raises:
        DataError: An override names a missing column or an unknown kind, or a
            column holds values of no usable type.
    """
    overrides = dict(overrides or {})
    for column, kind in overrides.items():
        if column not in frame.columns:
            raise DataError(
                f"column type override names {column!r}, which is not a column; "
                f"columns are: {', '.join(map(str, frame.columns))}."
            )
        if kind not in COLUMN_KINDS:
            raise DataError(
                f"column type for {column!r} must be one of {', '.join(COLUMN_KINDS)}; got {kind!r}."
            )
    return {str(c): overrides.get(str(c)) or _infer(frame[c]) for c in frame.columns}


def _infer(series: pd.Series) -> str:
    if ptypes.is_bool_dtype(series.dtype):
        return "boolean"
    if ptypes.is_numeric_dtype(series.dtype):
        return "numerical"
    if ptypes.is_datetime64_any_dtype(series.dtype) or ptypes.is_timedelta64_dtype(series.dtype):
        raise DataError(
            f"column {series.name!r} holds dates or durations, which are not supported; "
            "convert it to numbers or text first."
        )
    return "categorical"


def parse_column_overrides(items: list[str] | None) -> dict[str, str]:
    """Parse ``["age=numerical", "zip=categorical"]`` into a mapping.

    Raises:
        DataError: An item is not of the form ``name=kind``.
    """
    result: dict[str, str] = {}
    for item in items or []:
        name, sep, kind = item.rpartition("=")
        if not sep or not name:
            raise DataError(f"column type must look like NAME=KIND (e.g. age=numerical); got {item!r}.")
        result[name] = kind
    return result
