"""A fuseprune TableCodec in REaLTabFormer's terms, so REaLTabFormer decodes our tokens into our values.

Every TableCodec position becomes one REaLTabFormer processed column, every
token one REaLTabFormer token, in the same order:

- a column of few values that are text becomes a ``CATEGORICAL`` column whose
  tokens are the values' ``str()`` (``<NA>`` for missing);
- a column of few values that are numbers (or booleans) becomes a ``NUMERIC``
  column of one part whose tokens are the numbers as REaLTabFormer would write
  them (``'05'``, ``'12.50'``; ``@`` for missing), because REaLTabFormer's
  decoding reads any column of a numeric dtype as a number;
- a digits column becomes a ``NUMERIC`` column with one part per position: the
  sign position writes ``''`` / ``'-'`` / ``'@'`` (missing), each digit position
  its digit, the unit digit with the decimal point attached (``'9.'``), so the
  joined parts read ``'-029.5'``, which REaLTabFormer parses as -29.5.

Each position allows the tokens TableCodec allows there without looking back
(REaLTabFormer's sampler cannot look back), narrowed for digits to those some
number in the fitted range has at that place.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from fuseprune.errors import CodecError
from fuseprune.tabular.codec import TableCodec
from fuseprune.tabular.columns import HEAD_MINUS, HEAD_NA, HEAD_PLUS, ColumnCodec
from fuseprune.tabular.realtabformer import text as rtext
from fuseprune.tabular.realtabformer.codec import DIGITS, RtfCodec, RtfColumn
from fuseprune.tabular.realtabformer.layout import BOS, EOS, NA_TOKEN, PAD, SEP, SPECIAL_TOKENS

HEAD_TEXTS = {HEAD_PLUS: "", HEAD_MINUS: "-", HEAD_NA: NA_TOKEN}
SETTINGS = {"numeric_nparts": 1, "numeric_precision": 4, "numeric_max_len": 10, "random_state": 1029,
            "realtabformer_version": "0.2.4"}


def translate(codec: TableCodec) -> tuple[RtfCodec, np.ndarray]:
    """The RtfCodec of ``codec``, and the REaLTabFormer id of every ``codec`` token id."""
    tokens = list(SPECIAL_TOKENS)
    rtf_of = [tokens.index(PAD), tokens.index(BOS), tokens.index(EOS)]
    static = codec.allowed_mask()
    digits = len(str(len(codec.columns)))
    processed: list[str] = []
    positions: list[tuple[int, ...]] = []
    columns = []
    position, offset = 0, 3
    for index, col in enumerate(codec.columns):
        column, kind, texts = _column(col)
        prefix = f"{str(index).zfill(digits)}{SEP}{kind}{SEP}{col.name}"
        names = [prefix] if kind == "CATEGORICAL" else [f"{prefix}_{j:02d}" for j in range(len(texts))]
        for j, (name, options) in enumerate(zip(names, texts, strict=True)):
            first = len(tokens)
            tokens += [f"{name}{SEP}{text}" for text in options]
            rtf_of += range(first, len(tokens))
            allowed = static[position, offset : offset + len(options)].numpy().copy()
            if col.encoding == "digits" and (j > 0 or not col.head):
                allowed &= _reachable(col, j - (1 if col.head else 0))
            processed.append(name)
            positions.append(tuple(first + int(k) for k in np.flatnonzero(allowed)))
            position, offset = position + 1, offset + len(options)
        columns.append(column)
    return RtfCodec(tuple(tokens), tuple(processed), tuple(positions), tuple(columns), None, dict(SETTINGS)), \
        np.array(rtf_of, dtype=np.int64)


def _column(col: ColumnCodec) -> tuple[RtfColumn, str, list[list[str]]]:
    """The REaLTabFormer column of ``col``, its kind, and the texts of each of its positions."""
    if col.encoding == "digits":
        spec = {"width": col.width, "decimals": col.decimals, "head": list(col.head)}
        texts = ([[HEAD_TEXTS[h] for h in col.head]] if col.head else []) + \
            [rtext.digit_texts(col.width, col.decimals, i) for i in range(col.width)]
        return RtfColumn(col.name, "numeric", col.dtype, col.has_na, {**_digits_transform(col), DIGITS: spec}), \
            "NUMERIC", texts
    if _holds_numbers(col):
        numbers = [float(v) for v in col.values]
        transform = rtext.fit_numbers(numbers)
        options = [_finite_text(v, transform) for v in numbers]
        options += [NA_TOKEN * int(transform["numeric_nparts"])] if col.has_na else []
        return RtfColumn(col.name, "numeric", col.dtype, col.has_na, transform), "NUMERIC", [options]
    options = [rtext.category_text(v) for v in col.values] + ([rtext.CATEGORY_NA] if col.has_na else [])
    _check_texts(col.name, options)
    return RtfColumn(col.name, "categorical", col.dtype, col.has_na), "CATEGORICAL", [options]


def _finite_text(value: float, transform: dict[str, Any]) -> str:
    """REaLTabFormer's text of a number of a column's values (the codec holds no missing or infinite ones)."""
    text = rtext.number_text(value, transform)
    if text is None:
        raise CodecError(f"cannot write {value!r} as a REaLTabFormer number; a column's values must be finite.")
    return text


def _holds_numbers(col: ColumnCodec) -> bool:
    """REaLTabFormer's decoding reads a column of a numeric (or boolean) dtype as numbers."""
    if col.categories is not None or col.dtype in rtext.TEXT_DTYPES or col.dtype == "category":
        return False
    return bool(ptypes.is_numeric_dtype(pd.api.types.pandas_dtype(col.dtype)))


def _check_texts(name: str, options: list[str]) -> None:
    clashes = sorted({t for t in options if options.count(t) > 1 or SEP in t or rtext.NA_TOKEN in t})
    if clashes:
        raise CodecError(f"column {name!r} has values REaLTabFormer cannot tell apart or read back ({clashes[0]!r}: "
                         f"a repeated text, or one holding {SEP!r} or {NA_TOKEN!r}); rename them before exporting.")


def _digits_transform(col: ColumnCodec) -> dict[str, Any]:
    """REaLTabFormer-style transform data of a digits column (informative: our encoding is in ``DIGITS``)."""
    if col.decimals == 0:
        return {"max_len": max(col.width, 10), "numeric_precision": 0, "mx_sig": -1, "zfill": col.width,
                "numeric_nparts": 1}
    point = max(col.width - col.decimals, 1)
    return {"max_len": point + 1 + col.decimals, "numeric_precision": col.decimals, "mx_sig": point,
            "ljust": point + 1 + col.decimals, "numeric_nparts": 1}


def _reachable(col: ColumnCodec, digit: int) -> np.ndarray:
    """Digits (10,) that some number in the column's fitted range has at place ``digit`` (0 = leading)."""
    place = 10 ** (col.width - 1 - digit)
    period = 10 * place
    allowed = np.zeros(10, dtype=bool)
    for bounds in (col.positive, col.negative):
        if bounds is None:
            continue
        low, high = bounds
        if high - low + 1 >= period:
            return np.ones(10, dtype=bool)
        for start in (low - low % period, low - low % period + period):
            for d in range(10):
                begin, end = start + d * place, start + (d + 1) * place - 1
                allowed[d] |= begin <= high and end >= low
    if col.has_na:
        allowed[0] = True  # a missing number is written as zeros
    return allowed
