"""Values <-> the text REaLTabFormer writes for them, as REaLTabFormer 0.2.4 does it.

Numbers (``data_utils.process_numeric_data``): whole numbers are zero-filled to
a fixed width (``zfill``); other numbers are formatted at ``numeric_precision``
decimals with trailing zeros stripped, left-padded with zeros so the decimal
points line up (``mx_sig``), cut to ``max_len`` characters and right-padded
with zeros (``ljust``); a minus sign moves to the front. The text is cut into
parts of ``numeric_nparts`` characters, one token position each; a missing
number is ``@`` in every part.

Decoding (``rtf_sampler._recover_data_values`` and ``_convert_to_table``):
the parts are joined, a text starting with ``@`` is missing, leading zeros are
stripped, a second decimal point is dropped and the rest is read as a float,
then cast to the column's original dtype. Categories are their ``str()``;
``<NA>`` is a missing one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from fuseprune.errors import CodecError
from fuseprune.tabular.realtabformer.layout import NA_TOKEN
from fuseprune.tabular.schema import dtype_family

CATEGORY_NA = "<NA>"
MISSING_TEXTS = (CATEGORY_NA, "NaN")
TEXT_DTYPES = ("object", "str", "string")


def number_text(value: float | None, transform: dict[str, Any]) -> str | None:
    """REaLTabFormer's text of one number (None for a missing or non-finite one)."""
    if value is None or not math.isfinite(value):
        return None
    if "zfill" in transform:  # the column held whole numbers when REaLTabFormer was fitted
        if value != int(value):
            raise ValueError(f"{value!r} is not a whole number")
        text = str(int(value)).zfill(int(transform["zfill"]))
    else:
        text = f"{value:.{int(transform['numeric_precision'])}f}".rstrip("0")
        text = "0" * (int(transform["mx_sig"]) - text.find(".")) + text
        text = text[: int(transform["max_len"])].ljust(int(transform["ljust"]), "0")
    return "-" + text.replace("-", "") if "-" in text else text


def split_text(text: str, width: int, parts: int) -> list[str]:
    """Cut ``text`` into ``parts`` pieces of ``width`` characters (the last ones may be empty)."""
    return [text[i * width : (i + 1) * width] for i in range(parts)]


def parse_number(text: str) -> float:
    """The number REaLTabFormer reads from the joined parts of a non-missing value."""
    text = text.lstrip("0")
    if text.count(".") > 1:  # data_utils.fix_multi_decimal
        head, *rest = text.split(".")
        text = head + "." + "".join(rest)
    if text.strip("-.") == "":
        return 0.0
    try:
        return float(text)
    except ValueError:
        raise CodecError(f"{text!r} is not a number; the token sequence does not decode.") from None


def is_missing_number(text: str) -> bool:
    """A number whose first part is REaLTabFormer's missing token."""
    return text.startswith(NA_TOKEN)


def is_missing_category(text: str) -> bool:
    """REaLTabFormer's missing markers in a column that had missing values."""
    return text in MISSING_TEXTS or NA_TOKEN in text


def category_text(value: Any) -> str:
    """REaLTabFormer's text of a category (``str()``; a missing value is ``<NA>``)."""
    return CATEGORY_NA if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) \
        else str(value)


def check_dtype(name: str, dtype: str) -> None:
    """Raise a one-line error unless ``dtype`` is a dtype this codec can write."""
    if dtype in TEXT_DTYPES or dtype == "category":
        return
    try:
        kind = pd.api.types.pandas_dtype(dtype)
    except (TypeError, ValueError):
        raise CodecError(f"column {name!r} has dtype {dtype!r:.60}, which pandas does not know.") from None
    if ptypes.is_datetime64_any_dtype(kind) or ptypes.is_timedelta64_dtype(kind):
        raise CodecError(f"column {name!r} holds dates (dtype {dtype}); date columns are not supported yet.")
    if dtype_family(dtype) is None:
        raise CodecError(f"column {name!r} has dtype {dtype!r:.60}; fuseprune reads columns of numbers, "
                         "booleans, text or categories.")


def restore_numbers(name: str, values: np.ndarray, missing: np.ndarray, dtype: str) -> pd.Series:
    """Cast decoded numbers to the column's original dtype (nullable when a missing value needs it)."""
    kind = pd.api.types.pandas_dtype(dtype) if dtype not in TEXT_DTYPES and dtype != "category" else None
    whole = bool(np.all(values[~missing] == np.round(values[~missing])))
    series = pd.Series(np.where(missing, np.nan, values), name=name, dtype="float64")
    if kind is None:  # a numeric text column: REaLTabFormer casts the number to text
        return pd.Series(
            [None if m else _number_str(v) for v, m in zip(values, missing, strict=True)], name=name, dtype=object
        )
    if ptypes.is_bool_dtype(kind):
        flags = pd.array([None if m else bool(v) for v, m in zip(values, missing, strict=True)], dtype="boolean")
        return pd.Series(flags, name=name).astype("bool") if not missing.any() else pd.Series(flags, name=name)
    if ptypes.is_integer_dtype(kind) and whole:
        if missing.any() and not ptypes.is_extension_array_dtype(kind):
            return series.astype(ptypes.pandas_dtype(str(kind).capitalize().replace("Uint", "UInt")))
        return series.astype(kind)
    if ptypes.is_float_dtype(kind):
        return series.astype(kind)
    return series


def _number_str(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(float(value))


def restore_categories(name: str, texts: Sequence[str], missing: np.ndarray, dtype: str,
                       domain: Sequence[str]) -> pd.Series:
    """Cast decoded category texts to the column's original dtype."""
    data = np.array([None if m else t for t, m in zip(texts, missing, strict=True)], dtype=object)
    if dtype in TEXT_DTYPES:
        data[missing] = np.nan
        return pd.Series(data, name=name, dtype=object)
    if dtype == "category":
        return pd.Series(pd.Categorical(data, categories=list(domain)), name=name)
    kind = pd.api.types.pandas_dtype(dtype)
    if ptypes.is_bool_dtype(kind):
        flags = pd.array([None if v is None else v == "True" for v in data], dtype="boolean")
        return pd.Series(flags, name=name).astype("bool") if not missing.any() else pd.Series(flags, name=name)
    numbers = np.array([np.nan if v is None else parse_number(v) for v in data], dtype=float)
    return restore_numbers(name, numbers, missing, dtype)


def fit_numbers(values: Sequence[float]) -> dict[str, Any]:
    """REaLTabFormer's ``col_transform_data`` for these numbers, written whole in one part, exactly.

    Whole numbers are zero-filled; others get as many decimals as the most
    precise one needs (so every number reads back exactly) and their decimal
    points aligned, as REaLTabFormer's fitting does.
    """
    if all(v == int(v) for v in values):
        width = max(len(str(int(v))) for v in values)
        return {"max_len": max(width, 10), "numeric_precision": 0, "mx_sig": -1, "zfill": width,
                "numeric_nparts": width}
    precision = max(_decimals(v) for v in values)
    texts = [f"{v:.{precision}f}".rstrip("0") for v in values]
    point = max(t.find(".") for t in texts)
    width = max(point - t.find(".") + len(t) for t in texts)
    return {"max_len": width, "numeric_precision": precision, "mx_sig": point, "ljust": width, "numeric_nparts": width}


def _decimals(value: float) -> int:
    text = np.format_float_positional(float(value), unique=True, trim="-")
    return len(text.split(".")[1]) if "." in text else 0


def digit_texts(width: int, decimals: int, index: int) -> list[str]:
    """Texts of the ten digits at digit ``index`` of fuseprune's fixed-width numbers, decimal point attached.

    fuseprune writes ``|x| * 10**decimals`` in ``width`` digits; the unit digit
    carries the point (``'9.'``), or the first digit of a number below one
    carries it with the zeros it needs (``'.05'`` for width 1 and two decimals).
    """
    if decimals and width > decimals and index == width - decimals - 1:
        return [f"{d}." for d in range(10)]
    if decimals and width <= decimals and index == 0:
        return ["." + "0" * (decimals - width) + str(d) for d in range(10)]
    return [str(d) for d in range(10)]


def digit_parts(value: float | None, spec: dict[str, Any]) -> list[str]:
    """The parts of a number written in fuseprune's digits (see :func:`digit_texts`); None is missing."""
    width, decimals, head = int(spec["width"]), int(spec["decimals"]), list(spec["head"])
    if value is None or not math.isfinite(value):
        sign, digits = NA_TOKEN, "0" * width
    else:
        scaled = Decimal(repr(abs(float(value)))).scaleb(decimals)
        if scaled != scaled.to_integral_value() or scaled >= 10**width:
            raise ValueError(f"{value!r} does not fit {width} digits at {decimals} decimals")
        sign, digits = ("-" if math.copysign(1.0, value) < 0 else ""), str(int(scaled)).zfill(width)
    parts = [digit_texts(width, decimals, i)[int(d)] for i, d in enumerate(digits)]
    return ([sign] if head else []) + parts
