"""TableCodec: rows <-> token ids exactly, the tokens allowed at each step, saving, and its errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from functools import cache

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuseprune.data import DATASETS, load_table
from fuseprune.errors import CodecError, DataError, FusepruneError, PathNotFoundError
from fuseprune.tabular.codec import BOS_ID, CODEC_FILE, EOS_ID, TableCodec


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Small tensor work runs faster on one thread than with OpenMP wake-ups on a busy 2-core box."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@cache
def bundled(name: str) -> tuple[pd.DataFrame, TableCodec]:
    table = load_table(name)
    return table.frame, TableCodec.fit(table.frame, table.kinds)


def every_allowed_row(codec: TableCodec) -> torch.Tensor:
    """Every token sequence the step-by-step constraints allow (what a sampler could ever produce)."""
    prefixes = torch.tensor([[BOS_ID]])
    for _ in range(codec.sequence_length - 1):
        rows, tokens = codec.allowed_next(prefixes).nonzero(as_tuple=True)
        prefixes = torch.cat([prefixes[rows], tokens[:, None]], dim=1)
    return prefixes


def assert_round_trip(codec: TableCodec, frame: pd.DataFrame) -> torch.Tensor:
    ids = codec.encode(frame)
    assert ids.dtype == torch.long and ids.shape == (len(frame), codec.sequence_length)
    pd.testing.assert_frame_equal(codec.decode(ids), frame.reset_index(drop=True), check_exact=True)
    return ids


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert message and "\n" not in message and isinstance(exc.value, FusepruneError)
    return message


# --- a codec small enough to work out by hand -----------------------------------------------
#
# x = [5, 12, 7] has 3 distinct values > max_values=2, so it is written in digits: no decimals,
# width 2 ("12"), no sign or missing head. c = ["a", "b"] gets one token per value.
# ids: 0 <pad>, 1 <bos>, 2 <eos>, 3..12 x[0]=0..9, 13..22 x[1]=0..9, 23 c='a', 24 c='b'.


@pytest.fixture
def small() -> tuple[pd.DataFrame, TableCodec]:
    frame = pd.DataFrame({"x": [5, 12, 7], "c": ["a", "b", "a"]})
    return frame, TableCodec.fit(frame, max_values=2)


def test_small_codec_layout(small):
    _, codec = small
    assert codec.column_names == ["x", "c"]
    assert codec.sequence_length == 5  # bos, two digits of x, c, eos
    assert codec.vocab_size == 25  # 3 special + 10 + 10 + 2
    names = codec.token_names()
    assert len(names) == 25
    assert names[:3] == ["<pad>", "<bos>", "<eos>"]
    assert names[3] == "x[0]=0" and names[12] == "x[0]=9" and names[13] == "x[1]=0" and names[22] == "x[1]=9"
    assert names[23:] == ["c='a'", "c='b'"]
    assert codec.metadata() == {"columns": {"x": {"sdtype": "numerical"}, "c": {"sdtype": "categorical"}}}


def test_small_codec_token_ids(small):
    frame, codec = small
    ids = assert_round_trip(codec, frame)
    # 5 -> "05" -> 3+0, 13+5; 12 -> "12" -> 3+1, 13+2; 7 -> "07" -> 3+0, 13+7; a -> 23, b -> 24
    assert ids.tolist() == [[1, 3, 18, 23, 2], [1, 4, 15, 24, 2], [1, 3, 20, 23, 2]]


def test_small_codec_allowed_mask(small):
    _, codec = small
    mask = codec.allowed_mask()
    assert mask.shape == (4, 25) and mask.dtype == torch.bool
    assert mask[0].nonzero().flatten().tolist() == list(range(3, 13))  # first digit of x
    assert mask[1].nonzero().flatten().tolist() == list(range(13, 23))  # second digit of x
    assert mask[2].nonzero().flatten().tolist() == [23, 24]  # c
    assert mask[3].nonzero().flatten().tolist() == [EOS_ID]
    bias = codec.logit_bias()
    assert bias.shape == (4, 25)
    assert torch.equal(bias == 0, mask) and torch.isneginf(bias[~mask]).all()


def test_small_codec_keeps_x_between_5_and_12(small):
    frame, codec = small
    # first digit: 0 (05..09) or 1 (10..12); after 0 only 5..9; after 1 only 0..2
    start = torch.tensor([[BOS_ID]])
    assert codec.allowed_next(start).nonzero()[:, 1].tolist() == [3, 4]
    assert codec.allowed_next(torch.tensor([[BOS_ID, 3]])).nonzero()[:, 1].tolist() == [18, 19, 20, 21, 22]
    assert codec.allowed_next(torch.tensor([[BOS_ID, 4]])).nonzero()[:, 1].tolist() == [13, 14, 15]
    # with the true rows, the second-digit step allows exactly those digits and no others
    bias = codec.logit_bias(codec.encode(frame))
    assert bias.shape == (3, 4, 25)
    assert (bias[1, 1] == 0).nonzero().flatten().tolist() == [13, 14, 15]  # row x=12
    assert (bias[0, 1] == 0).nonzero().flatten().tolist() == [18, 19, 20, 21, 22]  # row x=5
    assert torch.equal(bias[:, 2], codec.logit_bias()[2].expand(3, -1))  # c is not constrained further


def test_small_codec_allows_exactly_the_fitted_range(small):
    _, codec = small
    decoded = codec.decode(every_allowed_row(codec))
    assert sorted(zip(decoded["x"], decoded["c"], strict=True)) == [(x, c) for x in range(5, 13) for c in "ab"]


# --- digits constrained by the digits before them -------------------------------------------


def test_digits_between_12_and_57():
    codec = TableCodec.fit(pd.DataFrame({"n": [12, 30, 57]}), max_values=2)
    # ids: 3..12 first digit 0..9, 13..22 second digit 0..9
    assert codec.sequence_length == 4 and codec.vocab_size == 23

    def next_digits(*digits: int) -> list[int]:
        prefix = torch.tensor([[BOS_ID, *[3 + 10 * i + d for i, d in enumerate(digits)]]])
        allowed = codec.allowed_next(prefix)[0].nonzero().flatten()
        return (allowed - 3 - 10 * len(digits)).tolist()

    assert next_digits() == [1, 2, 3, 4, 5]
    assert next_digits(5) == [0, 1, 2, 3, 4, 5, 6, 7]
    assert next_digits(1) == [2, 3, 4, 5, 6, 7, 8, 9]
    assert next_digits(3) == list(range(10))
    values = codec.decode(every_allowed_row(codec))["n"].tolist()
    assert values == list(range(12, 58))


def test_sign_and_missing_head():
    frame = pd.DataFrame({"v": [-3.5, 2.25, np.nan, 10.0]})
    codec = TableCodec.fit(frame, max_values=2)
    # two decimals: 350, 225, 1000 -> four digits; head tokens +, -, NA (ids 3, 4, 5), digits at 6, 16, 26, 36
    assert codec.sequence_length == 7 and codec.vocab_size == 46
    ids = assert_round_trip(codec, frame)
    assert ids.tolist() == [
        [1, 4, 6, 19, 31, 36, 2],  # -03.50
        [1, 3, 6, 18, 28, 41, 2],  # +02.25
        [1, 5, 6, 16, 26, 36, 2],  # NA, written as zeros
        [1, 3, 7, 16, 26, 36, 2],  # +10.00
    ]
    first_digit = codec.allowed_next(torch.tensor([[BOS_ID, 3], [BOS_ID, 4], [BOS_ID, 5]]))
    assert first_digit[0].nonzero().flatten().tolist() == [6, 7]  # + : 0225..1000 starts with 0 or 1
    assert first_digit[1].nonzero().flatten().tolist() == [6]  # - : only 0350
    assert first_digit[2].nonzero().flatten().tolist() == [6]  # NA: zeros
    decoded = codec.decode(every_allowed_row(codec))["v"]
    # -3.5, missing, and every hundredth from 2.25 to 10.00
    assert len(decoded) == 1 + 1 + 776
    assert decoded.isna().sum() == 1 and (decoded < 0).sum() == 1 and decoded.min() == -3.5
    assert decoded[decoded > 0].min() == 2.25 and decoded.max() == 10.0


def test_all_negative_column_never_allows_a_plus_sign():
    frame = pd.DataFrame({"x": [-5, -12, -7]})
    codec = TableCodec.fit(frame, max_values=2)
    assert_round_trip(codec, frame)
    # head tokens + (3) and - (4): with no positive value fitted, only - may be written
    assert codec.allowed_mask()[0].nonzero().flatten().tolist() == [4]
    decoded = codec.decode(every_allowed_row(codec))
    assert sorted(decoded["x"]) == list(range(-12, -4))
    codec.encode(decoded)  # whatever the constraints allow can be encoded again


# --- every bundled data set -----------------------------------------------------------------


@pytest.mark.parametrize("name", DATASETS.names())
def test_bundled_round_trip_is_exact(name):
    frame, codec = bundled(name)
    assert codec.column_names == list(frame.columns)
    assert_round_trip(codec, frame)
    # a split of the rows encodes with the codec of the whole table
    assert_round_trip(codec, frame.iloc[::3])


@pytest.mark.parametrize("name", DATASETS.names())
def test_bundled_true_tokens_are_always_allowed(name):
    frame, codec = bundled(name)
    ids = codec.encode(frame)
    for part in ids.split(64):  # the full (rows, steps, vocab) bias of 569 x 160 x 1585 is 0.6 GB
        bias = codec.logit_bias(part)
        assert bias.shape == (len(part), codec.sequence_length - 1, codec.vocab_size)
        at_truth = bias.gather(2, part[:, 1:, None]).squeeze(2)
        assert torch.equal(at_truth, torch.zeros_like(at_truth))
        # and the constraints do restrict: only EOS at the last step
        assert torch.isneginf(bias[:, -1]).sum(dim=1).eq(codec.vocab_size - 1).all()


@pytest.mark.parametrize("name", DATASETS.names())
def test_bundled_codec_survives_json_and_disk(name, tmp_path):
    frame, codec = bundled(name)
    payload = json.loads(json.dumps(codec.to_dict()))
    assert payload["schema_version"] == 1
    assert TableCodec.from_dict(payload) == codec
    path = codec.save(tmp_path / "model")
    assert path == tmp_path / "model" / CODEC_FILE and path.is_file()
    loaded = TableCodec.load(tmp_path / "model")
    assert loaded == codec
    assert torch.equal(loaded.encode(frame), codec.encode(frame))


def test_wisconsin_codec_by_hand():
    _, codec = bundled("breast-cancer-wisconsin")
    # every score has at most 10 values, so one position per column: 10 columns + bos + eos
    assert codec.sequence_length == 12
    # eight scores use all of 1..10, mitoses never scores 9, bare_nuclei adds a missing token,
    # class is benign/malignant: 3 + 7*10 + 9 + 11 + 2
    assert codec.vocab_size == 95
    assert codec.metadata()["columns"]["class"] == {"sdtype": "categorical"}


# --- generated tables -----------------------------------------------------------------------


@st.composite
def tables(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(1, 12))

    def column(values: st.SearchStrategy, missing: bool = False) -> list:
        cells = st.one_of(st.none(), values) if missing else values
        return draw(st.lists(cells, min_size=rows, max_size=rows))

    short_decimal = st.builds(
        lambda m, places: float(Decimal(m).scaleb(-places)),
        st.integers(-(10**6), 10**6),
        st.integers(0, 4),
    )
    words = st.sampled_from(["a", "b", "Oslo", "", "x y", "1", "é"])
    ints = column(st.integers(-(10**9), 10**9))
    floats = column(short_decimal, missing=True)
    return pd.DataFrame(
        {
            "int": pd.Series(ints, dtype="int64"),
            "float": pd.Series([np.nan if v is None else v for v in floats], dtype="float64"),
            "nullable": pd.Series(column(st.integers(-500, 500), missing=True), dtype="Int64"),
            "text": pd.Series(column(words, missing=True), dtype=object),
            "flag": pd.Series(column(st.booleans()), dtype=bool),
        }
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=tables(), max_values=st.integers(1, 6))
def test_generated_tables_round_trip(frame, max_values):
    codec = TableCodec.fit(frame, max_values=max_values)
    ids = assert_round_trip(codec, frame)
    bias = codec.logit_bias(ids)
    assert (bias.gather(2, ids[:, 1:, None]) == 0).all()
    assert TableCodec.from_dict(json.loads(json.dumps(codec.to_dict()))) == codec


# --- errors ---------------------------------------------------------------------------------


def test_encoding_a_frame_with_a_missing_and_an_extra_column(small):
    frame, codec = small
    with pytest.raises(DataError) as exc:
        codec.encode(frame.rename(columns={"c": "colour"}))
    message = one_line(exc)
    assert "missing ['c']" in message and "unexpected ['colour']" in message


def test_encoding_an_unseen_category(small):
    _, codec = small
    with pytest.raises(CodecError) as exc:
        codec.encode(pd.DataFrame({"x": [5], "c": ["z"]}))
    assert "'c'" in one_line(exc) and "'z'" in str(exc.value)


@pytest.mark.parametrize("x", [4, 13, 100, -5])
def test_encoding_a_number_outside_the_fitted_range(small, x):
    _, codec = small
    with pytest.raises(CodecError) as exc:
        codec.encode(pd.DataFrame({"x": [7, x], "c": ["a", "a"]}))
    assert "outside the range" in one_line(exc) and "(5.0 to 12.0)" in str(exc.value)


def test_encoding_missing_values_in_a_column_that_had_none(small):
    _, codec = small
    for frame in (
        pd.DataFrame({"x": pd.array([5, None], dtype="Int64"), "c": ["a", "b"]}),
        pd.DataFrame({"x": [5, 7], "c": ["a", None]}),
    ):
        with pytest.raises(CodecError) as exc:
            codec.encode(frame)
        assert "missing values" in one_line(exc)


@pytest.mark.parametrize("shape", [(2, 4), (2, 6), (5,)])
def test_decoding_ids_of_the_wrong_shape(small, shape):
    _, codec = small
    with pytest.raises(CodecError) as exc:
        codec.decode(torch.ones(shape, dtype=torch.long))
    assert "(rows, 5)" in one_line(exc)


@pytest.mark.parametrize("position, token", [(1, 23), (2, 3), (3, 22), (3, 25), (1, 0)])
def test_decoding_a_token_not_allowed_at_its_position(small, position, token):
    frame, codec = small
    ids = codec.encode(frame)
    ids[2, position] = token
    with pytest.raises(CodecError) as exc:
        codec.decode(ids)
    assert f"token id {token} in row 2 is not allowed at position {position}" in one_line(exc)


def test_loading_a_folder_without_codec_json(tmp_path):
    with pytest.raises(PathNotFoundError) as exc:
        TableCodec.load(tmp_path)
    assert CODEC_FILE in one_line(exc)


def test_codec_json_with_another_schema_version(small, tmp_path):
    _, codec = small
    payload = codec.to_dict() | {"schema_version": 2}
    with pytest.raises(CodecError) as exc:
        TableCodec.from_dict(payload)
    assert "schema_version must be 1; got 2" in one_line(exc)
    (tmp_path / CODEC_FILE).write_text(json.dumps(payload), encoding="utf-8")
    with pytest.raises(CodecError):
        TableCodec.load(tmp_path)


def test_codec_json_that_is_not_json(tmp_path):
    (tmp_path / CODEC_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(CodecError) as exc:
        TableCodec.load(tmp_path)
    assert "not a valid codec file" in one_line(exc)


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinite_values_are_refused_at_fit(bad):
    frame = pd.DataFrame({"v": [1.0, bad, 2.0]})
    with pytest.raises(CodecError) as exc:
        TableCodec.fit(frame)
    assert "'v'" in one_line(exc) and "infinite" in str(exc.value)


def test_fitting_an_empty_table():
    with pytest.raises(DataError):
        TableCodec.fit(pd.DataFrame({"v": []}))
