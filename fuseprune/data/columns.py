"""Column types: what each column of a table means for encoding and for evaluation.

Three kinds, the same ones SDMetrics uses:

- ``categorical``: a fixed set of values (text labels, codes, small integers
  the user wants treated as labels);
- ``numerical``: numbers, integer or real;
- ``boolean``: true/false.

Types are inferred from pandas dtypes and can be overridden per column; an
override is checked against the values (a ``numerical`` column must hold
numbers, a ``boolean`` one at most two true/false-like values).

A column that identifies rows instead of describing them would be learned
and copied verbatim into synthetic rows, so it is refused unless dropped or
declared. The rule (:func:`identifier_columns`), on the non-missing values of
a column with at least :data:`MIN_IDENTIFIER_ROWS` of them, all distinct:

- text (or any other non-numeric type): an identifier (ids, names, free text);
- integers (whatever the dtype) that fill at least :data:`ID_RANGE_DENSITY` of
  the range from their smallest to their largest, in any order (1..n,
  1000..1000+n-1, a sequence with a few deleted rows): an identifier (a row
  counter or a sequential id; almost any number a model draws from that range
  would be a real one);
- other numbers (measurements that merely never repeat, sparse codes): not an identifier.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from fuseprune.errors import DataError

COLUMN_KINDS = ("categorical", "numerical", "boolean")
#: Fewer non-missing values than this are never called an identifier (small tables repeat by chance rarely).
MIN_IDENTIFIER_ROWS = 20
#: Distinct integers filling at least this fraction of their range are a sequence of ids.
ID_RANGE_DENSITY = 0.9
#: Values a ``boolean`` column may hold (text compared without case).
BOOLEAN_TEXT = frozenset({"true", "false", "t", "f", "yes", "no", "y", "n", "0", "1"})


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


def identifier_columns(frame: pd.DataFrame, declared: Iterable[str] = ()) -> list[str]:
    """The columns of ``frame`` that look like row identifiers (see the module docstring), except ``declared``."""
    declared = set(declared)
    return [str(c) for c in frame.columns if str(c) not in declared and _identifies(frame[c])]


def _identifies(series: pd.Series) -> bool:
    values = series.dropna()
    if len(values) < MIN_IDENTIFIER_ROWS or ptypes.is_bool_dtype(values.dtype):
        return False
    try:
        if values.nunique() != len(values):
            return False
    except TypeError:  # unhashable cells cannot be distinct labels of anything
        return False
    if not ptypes.is_numeric_dtype(values.dtype):
        return True
    numbers = values.to_numpy(dtype=float)
    if not np.isfinite(numbers).all() or not (numbers == np.round(numbers)).all():
        return False
    return len(numbers) >= ID_RANGE_DENSITY * (numbers.max() - numbers.min() + 1)


def check_identifiers(frame: pd.DataFrame, name: str, declared: Iterable[str] = ()) -> None:
    """Refuse a table with identifier-like columns that are not ``declared``.

    Raises:
        DataError: Names the columns and the two ways out.
    """
    found = identifier_columns(frame, declared)
    if not found:
        return
    listed = ", ".join(repr(c) for c in found)
    drops = " ".join(f"--drop-column {c}" for c in found)
    raise DataError(
        f"table {name!r} has identifier-like columns ({listed}: a different value on every row), which a model would "
        f"copy into synthetic rows; drop them ({drops}) or declare them kept (--column-type {found[0]}=categorical)."
    )


def apply_column_types(frame: pd.DataFrame, overrides: Mapping[str, str]) -> pd.DataFrame:
    """Check declared column kinds against the values; return the frame with declared numbers as numbers.

    Raises:
        DataError: A column declared ``numerical`` holds values that are not
            numbers, or one declared ``boolean`` holds more than two or
            non-boolean values; the message shows a few of them.
    """
    infer_column_kinds(frame, overrides)  # unknown columns and kinds first
    frame = frame.copy()
    for column, kind in overrides.items():
        series = frame[column]
        if kind == "numerical" and (ptypes.is_bool_dtype(series.dtype) or not ptypes.is_numeric_dtype(series.dtype)):
            frame[column] = _as_numbers(series)
        elif kind == "boolean":
            _check_boolean(series)
    return frame


def _as_numbers(series: pd.Series) -> pd.Series:
    present = series.dropna()
    if ptypes.is_bool_dtype(present.dtype):
        return series.astype("Int64" if series.isna().any() else "int64")
    numbers = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
    bad = present[numbers.isna()]
    if len(bad):
        raise DataError(f"column {series.name!r} is declared numerical but {len(bad)} of {len(present)} values are not "
                        f"numbers (e.g. {_examples(bad)}); declare it categorical or fix the values.")
    return numbers.reindex(series.index)


def _check_boolean(series: pd.Series) -> None:
    present = series.dropna()
    distinct = pd.unique(present)
    if len(distinct) > 2:
        raise DataError(f"column {series.name!r} is declared boolean but holds {len(distinct)} distinct values "
                        f"(e.g. {_examples(distinct)}); declare it categorical.")
    odd = [v for v in distinct if str(v).strip().lower() not in BOOLEAN_TEXT and v not in (True, False)]
    if odd:
        raise DataError(f"column {series.name!r} is declared boolean but holds values that are not true/false "
                        f"(e.g. {_examples(odd)}); declare it categorical.")


def _examples(values: Iterable[object], limit: int = 3) -> str:
    shown = list(dict.fromkeys(str(v) for v in values))
    return ", ".join(repr(v) for v in shown[:limit]) + (", ..." if len(shown) > limit else "")
