"""ColumnCodec details the table-level tests do not pin down.

Dtypes come back as they went in, edge numbers stay exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fuseprune.errors import CodecError
from fuseprune.tabular.codec import TableCodec
from fuseprune.tabular.columns import ColumnCodec


def round_trip(series: pd.Series, kind: str = "numerical", max_values: int = 32) -> tuple[ColumnCodec, pd.Series]:
    codec = ColumnCodec.fit(series, kind, max_values)
    return codec, codec.decode(codec.encode(series))


# --- dtypes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("max_values", [1, 32])  # digits, then one token per value
@pytest.mark.parametrize(
    "series",
    [
        pd.Series([3, -40, 7], dtype="int64", name="s"),
        pd.Series([3, 40, 7], dtype="uint16", name="s"),
        pd.Series([3, 40, 7], dtype="int8", name="s"),
        pd.Series([3, None, 7], dtype="Int64", name="s"),
        pd.Series([3, 40, 7], dtype="Int64", name="s"),
        pd.Series([0.1, 0.25, np.nan], dtype="float32", name="s"),
        pd.Series([0.1, -2.5, np.nan], dtype="float64", name="s"),
        pd.Series([0.5, None, 1.75], dtype="Float64", name="s"),
    ],
    ids=["int64", "uint16", "int8", "Int64-missing", "Int64", "float32", "float64", "Float64"],
)
def test_numbers_keep_their_dtype_and_values(series, max_values):
    codec, back = round_trip(series, max_values=max_values)
    assert codec.encoding == ("digits" if max_values == 1 else "values")
    assert back.dtype == series.dtype
    pd.testing.assert_series_equal(back, series, check_exact=True)


def test_bool_stays_bool():
    series = pd.Series([True, False, True], name="b")
    codec, back = round_trip(series, "boolean")
    assert codec.values == (False, True) and back.dtype == np.dtype(bool)
    assert back.tolist() == [True, False, True]


def test_nullable_boolean_with_missing_values():
    series = pd.Series([True, None, False], dtype="boolean", name="b")
    codec, back = round_trip(series, "boolean")
    assert codec.has_na and str(back.dtype) == "boolean"
    pd.testing.assert_series_equal(back, series, check_exact=True)


def test_string_dtype_with_missing_values():
    series = pd.Series(["a", None, "b"], dtype="string", name="t")
    _, back = round_trip(series, "categorical")
    assert str(back.dtype) == "string" and back.isna().tolist() == [False, True, False]
    pd.testing.assert_series_equal(back, series, check_exact=True)


def test_category_keeps_unused_categories_and_their_order():
    series = pd.Series(
        pd.Categorical(["low", None, "high"], categories=["low", "mid", "high"], ordered=True), name="level"
    )
    codec, back = round_trip(series, "categorical")
    # only the values seen get tokens; the dtype remembers all three categories
    assert codec.values == ("high", "low") and codec.categories == ("low", "mid", "high")
    assert list(back.cat.categories) == ["low", "mid", "high"] and back.cat.ordered
    pd.testing.assert_series_equal(back, series, check_exact=True)


def test_float32_stays_float32_bit_for_bit():
    values = np.array([0.1, 1.3, 2.7182817, 1e-7, 123.456, -0.3], dtype=np.float32)
    series = pd.Series(values, name="f")
    codec, back = round_trip(series, max_values=1)
    # float32 shortest forms are 0.1, 1.3, 2.7182817, 1e-07, ...: 1e-07 needs 7 decimals,
    # so 123.456 is written as 1234560000, ten digits after a sign head
    assert (codec.encoding, codec.decimals, codec.width, codec.head) == ("digits", 7, 10, ("+", "-"))
    assert back.dtype == np.float32
    assert back.to_numpy().view(np.uint32).tolist() == values.view(np.uint32).tolist()


def test_many_short_float32_decimals_stay_bit_for_bit():
    rng = np.random.default_rng(0)
    text = [
        f"{m / 10**p:.{p}f}" for m, p in zip(rng.integers(-(10**5), 10**5, 3000), rng.integers(0, 5, 3000), strict=True)
    ]
    values = np.array(text, dtype=np.float32)  # each the float32 nearest to its short decimal
    codec, back = round_trip(pd.Series(values, name="f"), max_values=1)
    assert codec.encoding == "digits" and codec.decimals == 4
    assert back.to_numpy().view(np.uint32).tolist() == values.view(np.uint32).tolist()


def test_object_column_keeps_1_1point0_and_true_apart():
    series = pd.Series([1, 1.0, True, "1", 1, 2], dtype=object, name="o")
    codec, back = round_trip(series, "categorical")
    assert len(codec.values) == 5  # 1, 1.0, True, "1", 2
    assert [type(v).__name__ for v in back] == ["int", "float", "bool", "str", "int", "int"]
    assert back.tolist() == [1, 1.0, True, "1", 1, 2]


# --- numbers at the edges -------------------------------------------------------------------


def test_digit_layout_of_mixed_decimals():
    series = pd.Series([0.5, 1.25, 100.0], name="v")
    codec, back = round_trip(series, max_values=1)
    # two decimals: 50, 125, 10000 -> five digits, all non-negative, no missing -> no head
    assert (codec.decimals, codec.width, codec.head) == (2, 5, ())
    assert codec.positive == (50, 10000) and codec.negative is None
    assert codec.encode(series).tolist() == [[0, 0, 0, 5, 0], [0, 0, 1, 2, 5], [1, 0, 0, 0, 0]]
    assert back.tolist() == [0.5, 1.25, 100.0]


def test_negative_zero_next_to_zero():
    series = pd.Series([0.0, -0.0, 1.5, -2.25], name="z")
    codec, back = round_trip(series, max_values=1)
    # both zeros are inside the fitted range, each on its own side
    assert codec.positive == (0, 150) and codec.negative == (0, 225)
    assert np.signbit(back.to_numpy()).tolist() == [False, True, False, True]
    assert back.tolist() == [0.0, 0.0, 1.5, -2.25]


@pytest.mark.parametrize(
    "values",
    [[1.5e-25, 2.5e-25, 3.5e-25], [3.2e-30, 4.1e-30, 7.7e-31], [5e-324, 1e-320, 2.5e-310]],
    ids=["1e-25", "1e-30", "subnormal"],
)
def test_tiny_numbers_beyond_22_decimals_stay_exact(values):
    series = pd.Series(values, name="p")
    codec, back = round_trip(series, max_values=1)
    assert codec.encoding == "digits" and codec.decimals > 22
    assert back.tolist() == values


def test_numbers_needing_more_than_15_digits_are_refused():
    # 12345678901234.25 at 2 decimals is 1234567890123425: 16 digits, one more than a double keeps exact
    with pytest.raises(CodecError) as exc:
        ColumnCodec.fit(pd.Series([0.5, 12345678901234.25, 3.0], name="big"), "numerical", 1)
    assert "'big' needs 16 digits at 2 decimals" in str(exc.value) and "\n" not in str(exc.value)
    # one digit less, 123456789012325, fits in 15 and comes back exactly
    codec, back = round_trip(pd.Series([0.5, 1234567890123.25, 3.0], name="ok"), max_values=1)
    assert codec.width == 15 and back.tolist() == [0.5, 1234567890123.25, 3.0]


def test_numerical_override_on_text_gives_one_token_per_value():
    frame = pd.DataFrame({"t": ["3", "10", "3"]})
    codec = TableCodec.fit(frame, {"t": "numerical"}, max_values=1)
    assert codec.columns[0].encoding == "values" and codec.columns[0].values == ("10", "3")
    pd.testing.assert_frame_equal(codec.decode(codec.encode(frame)), frame, check_exact=True)
