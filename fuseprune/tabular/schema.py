"""The schema of ``codec.json``: every field of every column checked before a codec is built from it.

A codec sizes allocations (one token per value, ten per digit position, masks
of positions x vocabulary), so a hand-edited file must not be trusted: every
field has a known type, every number stays within the limits
:meth:`ColumnCodec.fit` itself keeps, and the fields agree with the column's
encoding. Any violation is a one-line :class:`~fuseprune.errors.CodecError`
naming the column and the field.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from fuseprune.data.columns import COLUMN_KINDS
from fuseprune.errors import CodecError

KIND = "table"  # what ``load_codec`` reads when ``kind`` is absent
ENCODINGS = ("values", "digits")
MAX_DIGITS = 15  # k < 10**15 < 2**53 stays an exact double
MAX_DECIMALS = 324  # the most decimals of a double's shortest decimal form (5e-324)
MAX_CELLS = 100_000_000  # positions x tokens: the allowed-token mask has one cell each
REQUIRED = ("name", "kind", "dtype", "encoding")
#: field -> (accepted types, readable type); ``None`` is accepted where the default is ``None``.
FIELD_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "name": ((str,), "a string"),
    "kind": ((str,), "a string"),
    "dtype": ((str,), "a string"),
    "encoding": ((str,), "a string"),
    "values": ((list,), "a list"),
    "has_na": ((bool,), "true or false"),
    "decimals": ((int,), "an integer"),
    "width": ((int,), "an integer"),
    "signed": ((bool,), "true or false"),
    "categories": ((list, type(None)), "a list or null"),
    "ordered": ((bool,), "true or false"),
    "positive": ((list, type(None)), "a [low, high] pair or null"),
    "negative": ((list, type(None)), "a [low, high] pair or null"),
}


def check_column(payload: Any, index: int) -> None:
    """Raise ``CodecError`` unless ``payload`` is a valid column of ``codec.json``."""
    where = f"codec column {index}"
    if not isinstance(payload, Mapping):
        raise CodecError(f"{where} must be a JSON object; got {type(payload).__name__}.")
    unknown = sorted(str(k) for k in payload if k not in FIELD_TYPES)
    if unknown:
        raise CodecError(f"{where} has unknown field {unknown[0]!r}; known: {', '.join(FIELD_TYPES)}.")
    missing = [k for k in REQUIRED if k not in payload]
    if missing:
        raise CodecError(f"{where} lacks field {missing[0]!r}.")
    where = f"codec column {payload['name']!r}" if isinstance(payload["name"], str) else where
    for key, value in payload.items():
        types, text = FIELD_TYPES[key]
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            raise CodecError(f"{where}: `{key}` must be {text}; got {value!r:.60}.")
    _check_names(payload, where)
    if payload["encoding"] == "values":
        _check_values(payload, where)
    else:
        _check_digits(payload, where)


def _check_names(payload: Mapping[str, Any], where: str) -> None:
    if payload["kind"] not in COLUMN_KINDS:
        raise CodecError(f"{where}: `kind` must be one of {', '.join(COLUMN_KINDS)}; got {payload['kind']!r:.60}.")
    if payload["encoding"] not in ENCODINGS:
        raise CodecError(f"{where}: `encoding` must be one of {', '.join(ENCODINGS)}; "
                         f"got {payload['encoding']!r:.60}.")
    family = dtype_family(payload["dtype"])
    if family is None:
        raise CodecError(f"{where}: `dtype` must be a pandas dtype of numbers, booleans, text or categories; "
                         f"got {payload['dtype']!r:.60}.")


def dtype_family(dtype: str) -> str | None:
    """``bool``, ``int``, ``float``, ``object`` or ``category`` for a supported pandas dtype name, else None."""
    try:
        parsed = pd.api.types.pandas_dtype(dtype)
    except (TypeError, ValueError):
        return None
    if isinstance(parsed, pd.CategoricalDtype):
        return "category"
    if ptypes.is_bool_dtype(parsed):
        return "bool"
    if ptypes.is_integer_dtype(parsed):
        return "int"
    if ptypes.is_float_dtype(parsed):
        return "float"
    if ptypes.is_object_dtype(parsed) or ptypes.is_string_dtype(parsed):
        return "object"
    return None


def _check_values(payload: Mapping[str, Any], where: str) -> None:
    for key, empty in (("width", 0), ("decimals", 0), ("signed", False), ("positive", None), ("negative", None)):
        if payload.get(key, empty) != empty:
            raise CodecError(f"{where}: `{key}` must be {json_text(empty)} for a values column; "
                             f"got {payload[key]!r:.60}.")
    values = payload.get("values", [])
    if not values and not payload.get("has_na", False):
        raise CodecError(f"{where}: a values column needs at least one value or `has_na`.")
    family = dtype_family(payload["dtype"])
    for value in values:
        _check_scalar(value, family, payload["dtype"], where, "values")
    _check_unique(values, where, "values")
    categories = payload.get("categories")
    if categories is not None:
        for value in categories:
            _check_scalar(value, "object", payload["dtype"], where, "categories")
        _check_unique(categories, where, "categories")
        known = {_marker(c) for c in categories}
        outside = [v for v in values if _marker(v) not in known]
        if outside:
            raise CodecError(f"{where}: value {outside[0]!r:.60} is not one of the column's `categories`.")
    elif payload.get("ordered", False):
        raise CodecError(f"{where}: `ordered` needs `categories`.")


def _check_scalar(value: Any, family: str | None, dtype: str, where: str, key: str) -> None:
    if not _fits(value, family, dtype):
        raise CodecError(f"{where}: `{key}` entry {value!r:.60} does not fit dtype {dtype!r}.")


def _fits(value: Any, family: str | None, dtype: str) -> bool:
    """Whether a JSON scalar can be a value of a column of ``dtype`` (of the given family)."""
    if isinstance(value, float) and not math.isfinite(value):
        return False
    if family == "bool" or isinstance(value, bool):
        return isinstance(value, bool) and family in ("bool", "object", "category")
    if family == "int":
        parsed = pd.api.types.pandas_dtype(dtype)
        info = np.iinfo(getattr(parsed, "numpy_dtype", parsed))
        return isinstance(value, int) and int(info.min) <= value <= int(info.max)
    if family == "float":
        return isinstance(value, int | float)
    return isinstance(value, str | int | float)


def _check_unique(values: list[Any], where: str, key: str) -> None:
    seen: set[tuple[str, Any]] = set()
    for value in values:
        if _marker(value) in seen:
            raise CodecError(f"{where}: `{key}` lists {value!r:.60} twice.")
        seen.add(_marker(value))


def _marker(value: Any) -> tuple[str, Any]:
    """A key that keeps 1, 1.0 and True apart (as the codec does)."""
    return (type(value).__name__, value)


def _check_digits(payload: Mapping[str, Any], where: str) -> None:
    if payload["kind"] != "numerical" or dtype_family(payload["dtype"]) not in ("int", "float"):
        raise CodecError(f"{where}: a digits column must be numerical with an integer or float dtype; "
                         f"got kind {payload['kind']!r}, dtype {payload['dtype']!r}.")
    for key, empty in (("values", []), ("categories", None), ("ordered", False)):
        if payload.get(key, empty) != empty:
            raise CodecError(f"{where}: `{key}` must be {json_text(empty)} for a digits column.")
    width, decimals = payload.get("width", 0), payload.get("decimals", 0)
    if not 1 <= width <= MAX_DIGITS:
        raise CodecError(f"{where}: `width` must be between 1 and {MAX_DIGITS}; got {width}.")
    if not 0 <= decimals <= MAX_DECIMALS:
        raise CodecError(f"{where}: `decimals` must be between 0 and {MAX_DECIMALS}; got {decimals}.")
    for key in ("positive", "negative"):
        bounds = payload.get(key)
        if bounds is None:
            continue
        ok = len(bounds) == 2 and all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)
        if not ok or not 0 <= bounds[0] <= bounds[1] < 10**width:
            raise CodecError(f"{where}: `{key}` must be [low, high] with 0 <= low <= high < 10**width; "
                             f"got {bounds!r:.60}.")
    if payload.get("positive") is None and payload.get("negative") is None:
        raise CodecError(f"{where}: a digits column needs `positive` or `negative` bounds.")
    if payload.get("signed", False) != (payload.get("negative") is not None):
        raise CodecError(f"{where}: `signed` must be true exactly when `negative` bounds are given.")


def check_table(payload: Any, schema_version: int) -> list[Any]:
    """Check the top level of ``codec.json`` and every column; return the column payloads."""
    if not isinstance(payload, Mapping):
        raise CodecError(f"a codec must be a JSON object; got {type(payload).__name__}.")
    unknown = sorted(str(k) for k in payload if k not in ("kind", "schema_version", "columns"))
    if unknown:
        raise CodecError(f"codec has unknown field {unknown[0]!r}; known: kind, schema_version, columns.")
    if payload.get("kind", KIND) != KIND:
        raise CodecError(f"codec kind must be {KIND!r} (or absent); got {payload['kind']!r:.60}.")
    version = payload.get("schema_version")
    if version != schema_version or isinstance(version, bool):
        raise CodecError(f"codec schema_version must be {schema_version}; got {version!r:.60}.")
    columns = payload.get("columns")
    if not isinstance(columns, list) or not columns:
        raise CodecError(f"codec `columns` must be a non-empty list; got {columns!r:.60}.")
    for index, column in enumerate(columns):
        check_column(column, index)
    twice = sorted(name for name, count in Counter(c["name"] for c in columns).items() if count > 1)
    if twice:
        raise CodecError(f"codec names column {twice[0]!r} twice.")
    positions = sum(1 + c.get("width", 0) if c["encoding"] == "digits" else 1 for c in columns)
    tokens = sum(3 + 10 * c.get("width", 0) if c["encoding"] == "digits" else 1 + len(c.get("values", ()))
                 for c in columns)
    if positions * tokens > MAX_CELLS:
        raise CodecError(f"codec describes about {positions:,} token positions x {tokens:,} tokens, more than the "
                         f"{MAX_CELLS:,} cells a model's token mask may take; the codec is damaged.")
    return columns


def json_text(value: Any) -> str:
    """How ``value`` is written in JSON (for messages)."""
    return json.dumps(value)
