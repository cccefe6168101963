"""Encoding of one column into token positions, exactly and reversibly.

Two encodings, as in REaLTabFormer:

- ``values``: one token per distinct value of the column (text labels,
  booleans, numbers with few distinct values). One position per row.
- ``digits``: a number is written as a fixed-width decimal integer
  ``k = |x| * 10**decimals``, one position per digit, each position with its
  own ten tokens, after an optional head position for the sign and for a
  missing value. Decoding divides ``k`` by ``10**decimals``; both are exact
  doubles (up to 22 decimals; beyond, Python's correctly rounded integer
  division is used), so the division returns exactly the original number.

Missing values get their own token (``values``) or head token (``digits``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import torch
from pandas.api import types as ptypes

from fuseprune.errors import CodecError
from fuseprune.tabular.schema import MAX_DECIMALS, MAX_DIGITS, check_column

MAX_EXACT_DECIMALS = 22  # 10.0**22 is the largest power of ten a double holds exactly
HEAD_PLUS, HEAD_MINUS, HEAD_NA = "+", "-", "NA"


@dataclass(frozen=True)
class ColumnCodec:
    """How one column maps to token positions; see the module docstring."""

    name: str
    kind: str
    dtype: str
    encoding: str
    values: tuple[Any, ...] = ()
    has_na: bool = False
    decimals: int = 0
    width: int = 0
    signed: bool = False
    categories: tuple[Any, ...] | None = None
    ordered: bool = False
    positive: tuple[int, int] | None = None
    negative: tuple[int, int] | None = None

    @classmethod
    def fit(cls, series: pd.Series, kind: str, max_values: int) -> ColumnCodec:
        """Fit the encoding of ``series`` (of the given kind) and check it is exact."""
        name, present = str(series.name), series.dropna()
        dtype, has_na = str(series.dtype), bool(series.isna().any())
        categories, ordered = None, False
        if isinstance(series.dtype, pd.CategoricalDtype):
            categories, ordered = tuple(_native(series.cat.categories)), bool(series.dtype.ordered)
        numeric = ptypes.is_numeric_dtype(series.dtype) and not ptypes.is_bool_dtype(series.dtype)
        if numeric and not np.isfinite(present.to_numpy(dtype=float)).all():
            raise CodecError(f"column {name!r} holds infinite values; replace them with numbers or leave them empty.")
        uniques = pd.unique(present)
        if kind != "numerical" or not numeric or len(uniques) <= max_values:
            # pd.unique merges 1, 1.0 and True, which the codec keeps apart
            distinct = (list({_key(v): v for v in _native(present.to_numpy())}.values())
                        if series.dtype == object else uniques)
            values = tuple(sorted(_native(distinct), key=_sort_key))
            return cls(name, kind, dtype, "values", values, has_na, categories=categories, ordered=ordered)
        decimals = max(_decimals(v, series.dtype) for v in uniques)
        scaled = _signed_scaled(present, uniques, decimals)
        width = len(str(max(k for k, _ in scaled)))
        if decimals > MAX_DECIMALS:
            raise CodecError(f"column {name!r} needs {decimals} decimals (more than {MAX_DECIMALS}); round it.")
        if width > MAX_DIGITS:
            raise CodecError(
                f"column {name!r} needs {width} digits at {decimals} decimals (more than {MAX_DIGITS}); "
                "round it or declare it categorical."
            )
        ranges = [_bounds([k for k, neg in scaled if neg == flag]) for flag in (False, True)]
        signed = any(neg for _, neg in scaled)
        return cls(name, kind, dtype, "digits", (), has_na, decimals, width, signed, None, False, *ranges)

    @property
    def head(self) -> tuple[str, ...]:
        """Tokens of the sign/missing head position of a digits column (empty if none)."""
        if self.encoding != "digits" or not (self.signed or self.has_na):
            return ()
        return (HEAD_PLUS,) + ((HEAD_MINUS,) if self.signed else ()) + ((HEAD_NA,) if self.has_na else ())

    def position_tokens(self) -> list[list[str]]:
        """Readable token names for each position of this column, in order."""
        if self.encoding == "values":
            return [[f"{self.name}={v!r}" for v in self.values] + ([f"{self.name}=NA"] if self.has_na else [])]
        digits = [[f"{self.name}[{i}]={d}" for d in range(10)] for i in range(self.width)]
        head = [[f"{self.name}[sign]={h}" for h in self.head]] if self.head else []
        return head + digits

    def allowed_digits(self, head: torch.Tensor | None, prefix: torch.Tensor) -> torch.Tensor:
        """Digits (rows, 10) that keep each row's number inside the fitted range.

        Args:
            head: Local head token of each row (sign or missing), or None if the
                column has no head position.
            prefix: Digits already written, shape (rows, i).
        """
        rows, written = prefix.shape
        scale = 10 ** (self.width - 1 - written)
        value = torch.zeros(rows, dtype=torch.long)
        for i in range(written):
            value = value * 10 + prefix[:, i]
        start = (value[:, None] * 10 + torch.arange(10)[None, :]) * scale
        end = start + scale - 1
        low, high = torch.zeros(rows, dtype=torch.long), torch.zeros(rows, dtype=torch.long)
        for sign, bounds in ((HEAD_PLUS, self.positive), (HEAD_MINUS, self.negative)):
            if bounds is None:
                continue
            rows_with = torch.ones(rows, dtype=torch.bool) if head is None else head == self.head.index(sign)
            low, high = torch.where(rows_with, bounds[0], low), torch.where(rows_with, bounds[1], high)
        allowed = (end >= low[:, None]) & (start <= high[:, None])
        if self.has_na:  # a missing number is written as zeros
            missing = head == self.head.index(HEAD_NA)
            allowed[missing] = torch.arange(10)[None, :] == 0
        return allowed

    def encode(self, series: pd.Series) -> np.ndarray:
        """Return local token indices, shape (rows, positions)."""
        missing = series.isna().to_numpy()
        if missing.any() and not self.has_na:
            raise CodecError(f"column {self.name!r} has missing values, but had none when the codec was fitted.")
        if self.encoding == "values":
            return self._encode_values(series, missing)[:, None]
        return self._encode_digits(series, missing)

    def _encode_values(self, series: pd.Series, missing: np.ndarray) -> np.ndarray:
        lookup = {_key(v): i for i, v in enumerate(self.values)}
        out = np.full(len(series), len(self.values), dtype=np.int64)
        for row, value in enumerate(_native(series.to_numpy(dtype=object))):
            if missing[row]:
                continue
            if _key(value) not in lookup:
                raise CodecError(f"column {self.name!r} holds value {value!r}, unseen when the codec was fitted.")
            out[row] = lookup[_key(value)]
        return out

    def _encode_digits(self, series: pd.Series, missing: np.ndarray) -> np.ndarray:
        numbers = series.to_numpy(dtype=float, na_value=0.0)
        cache = {v: _scaled(v, self.decimals, series.dtype) for v in pd.unique(numbers)}
        scaled = np.array([cache[v] for v in numbers], dtype=np.int64)
        self._check_range(scaled, np.signbit(numbers) & ~missing, missing)
        powers = 10 ** np.arange(self.width - 1, -1, -1, dtype=np.int64)
        digits = (scaled[:, None] // powers[None, :]) % 10
        if not self.head:
            return digits
        head = np.where(np.signbit(numbers), self.head.index(HEAD_MINUS) if self.signed else 0, 0)
        if self.has_na:
            head = np.where(missing, self.head.index(HEAD_NA), head)
        return np.concatenate([head[:, None], digits], axis=1)

    def _check_range(self, scaled: np.ndarray, negative: np.ndarray, missing: np.ndarray) -> None:
        for flag, bounds in ((False, self.positive), (True, self.negative)):
            picked = scaled[(negative == flag) & ~missing]
            if picked.size and (bounds is None or picked.min() < bounds[0] or picked.max() > bounds[1]):
                low, high = self._range_text()
                raise CodecError(
                    f"column {self.name!r} holds numbers outside the range the codec was fitted on "
                    f"({low} to {high}); fit the codec on a table that covers them."
                )

    def _range_text(self) -> tuple[float, float]:
        lows = [-b[1] for b in [self.negative] if b] + [b[0] for b in [self.positive] if b]
        highs = [-b[0] for b in [self.negative] if b] + [b[1] for b in [self.positive] if b]
        return min(lows) / 10**self.decimals, max(highs) / 10**self.decimals

    def decode(self, local: np.ndarray) -> pd.Series:
        """Turn local token indices (rows, positions) back into a column of the original dtype."""
        if self.encoding == "values":
            lookup = np.array(list(self.values) + [None], dtype=object)
            return self._restore(lookup[local[:, 0]], local[:, 0] == len(self.values))
        head = local[:, 0] if self.head else np.zeros(len(local), dtype=np.int64)
        digits = local[:, 1:] if self.head else local
        powers = 10 ** np.arange(self.width - 1, -1, -1, dtype=np.int64)
        scaled = (digits * powers[None, :]).sum(axis=1)
        sign = np.where(head == (self.head.index(HEAD_MINUS) if self.signed else -1), -1.0, 1.0)
        missing = head == (self.head.index(HEAD_NA) if self.has_na else -1)
        if self.decimals <= MAX_EXACT_DECIMALS:
            magnitude = scaled.astype(np.float64) / 10.0**self.decimals
        else:  # 10.0**decimals would be rounded (or overflow); Python's int / int rounds correctly
            magnitude = np.array([int(k) / 10**self.decimals for k in scaled], dtype=np.float64)
        numbers = sign * magnitude
        return self._restore(numbers, missing)

    def _restore(self, data: np.ndarray, missing: np.ndarray) -> pd.Series:
        if self.categories is not None:
            data = data.astype(object)  # a copy: None where missing
            data[missing] = None
            cat = pd.Categorical(data, categories=list(self.categories), ordered=self.ordered)
            return pd.Series(cat, name=self.name)
        dtype = self.dtype
        if missing.any() and (dtype == "bool" or dtype.startswith(("int", "uint"))):  # not "boolean"
            dtype = "boolean" if dtype == "bool" else dtype.capitalize().replace("Uint", "UInt")
        data = np.array(data, dtype=object)
        data[missing] = None if ptypes.is_extension_array_dtype(pd.api.types.pandas_dtype(dtype)) else np.nan
        if dtype == "object":
            return pd.Series(data, name=self.name, dtype=object)
        return pd.Series(data, name=self.name).astype(dtype)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        payload = asdict(self)
        payload["values"] = list(self.values)
        payload["categories"] = None if self.categories is None else list(self.categories)
        payload["positive"] = None if self.positive is None else list(self.positive)
        payload["negative"] = None if self.negative is None else list(self.negative)
        return payload

    @classmethod
    def from_dict(cls, payload: dict[str, Any], index: int = 0) -> ColumnCodec:
        """Rebuild from :meth:`to_dict` output, after checking every field (see :mod:`fuseprune.tabular.schema`).

        Raises:
            CodecError: A field is unknown, missing, mistyped, out of bounds or
                inconsistent with the encoding (one line naming the column and field).
        """
        check_column(payload, index)
        payload = dict(payload)
        payload["values"] = tuple(payload.get("values", ()))
        for key in ("categories", "positive", "negative"):
            if payload.get(key) is not None:
                payload[key] = tuple(payload[key])
        return cls(**payload)


def _native(values: Any) -> list[Any]:
    """Plain Python scalars (JSON-ready) for numpy/pandas scalars."""
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def _key(value: Any) -> tuple[str, Any]:
    """A lookup key that keeps 1, 1.0 and True apart (as JSON does)."""
    return (type(value).__name__, value)


def _sort_key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value) if isinstance(value, (int, float, str, bool)) else ("~", str(value))


def _bounds(scaled: list[int]) -> tuple[int, int] | None:
    return (min(scaled), max(scaled)) if scaled else None


def _signed_scaled(present: pd.Series, uniques: Any, decimals: int) -> set[tuple[int, bool]]:
    """``(|x| * 10**decimals, sign bit)`` of every distinct number, keeping 0.0 and -0.0 apart."""
    pairs = {(_scaled(v, decimals, present.dtype), bool(np.signbit(float(v)))) for v in uniques}
    if ptypes.is_float_dtype(present.dtype):  # pd.unique keeps only the first of 0.0 and -0.0
        numbers = present.to_numpy(dtype=float)
        pairs |= {(0, bool(sign)) for sign in np.signbit(numbers[numbers == 0])}
    return pairs


def _decimals(value: float, dtype: Any) -> int:
    text = _shortest(value, dtype)
    return len(text.split(".")[1]) if "." in text else 0


def _shortest(value: float, dtype: Any) -> str:
    kind = np.float32 if str(dtype) == "float32" else np.float64
    return np.format_float_positional(kind(value), unique=True, trim="-")


def _scaled(value: float, decimals: int, dtype: Any) -> int:
    """``|value| * 10**decimals`` as an exact integer."""
    return abs(int(Decimal(_shortest(value, dtype)).scaleb(decimals)))
