"""RtfCodec on a REaLTabFormer vocabulary small enough to work out by hand.

The table has a category with missing values, a real number REaLTabFormer
writes at one decimal place per token (``1.5 -> '01.50'``, ``-3.5 -> '-3.50'``,
missing ``'@@@@@'``) and a whole number it zero-fills (``7 -> '07'``,
``-5 -> '-5'``); the expected token texts below follow REaLTabFormer 0.2.4's
``process_numeric_data`` and ``tokenize_numeric_col`` step by step.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from fuseprune.errors import CodecError
from fuseprune.tabular.codec import BOS_ID, EOS_ID, PAD_ID
from fuseprune.tabular.realtabformer.codec import RtfCodec
from fuseprune.tabular.realtabformer.layout import SPECIAL_TOKENS

FRAME = pd.DataFrame({"color": ["red", None, "blue"], "x": [1.5, 12.25, -3.5], "n": [7, 42, -5]})
FRAME.loc[1, "x"] = np.nan
# position -> the texts REaLTabFormer's vocabulary holds there (sorted as build_vocab sorts them)
POSITIONS = {
    "0___CATEGORICAL___color": ["<NA>", "blue", "red"],
    "1___NUMERIC___x_00": ["-", "0", "1", "@"],
    "1___NUMERIC___x_01": ["1", "2", "3", "@"],
    "1___NUMERIC___x_02": [".", "@"],
    "1___NUMERIC___x_03": ["2", "5", "@"],
    "1___NUMERIC___x_04": ["0", "5", "@"],
    "2___NUMERIC___n_00": ["-", "0", "4"],
    "2___NUMERIC___n_01": ["2", "5", "7"],
}


def hand_config(positions: dict[str, list[str]] = POSITIONS, nparts: int = 1) -> dict:
    tokens = list(SPECIAL_TOKENS)
    col_idx = {}
    for t, (name, texts) in enumerate(positions.items()):
        col_idx[str(t)] = list(range(len(tokens), len(tokens) + len(texts)))
        tokens += [f"{name}___{text}" for text in texts]
    return {
        "model_type": "tabular", "tabular_config": {"n_layer": 1}, "columns": ["color", "x", "n"],
        "column_dtypes": {"color": "object", "x": "float64", "n": "int64"},
        "column_has_missing": {"color": True, "x": True, "n": False},
        "processed_columns": list(positions), "vocab": {"id2token": dict(enumerate(tokens))},
        "col_idx_ids": col_idx, "numeric_nparts": nparts,
        "col_transform_data": {
            "x": {"max_len": 10, "numeric_precision": 4, "mx_sig": 2, "ljust": 5, "numeric_nparts": nparts},
            "n": {"max_len": 10, "numeric_precision": 4, "mx_sig": -1, "zfill": 2, "numeric_nparts": nparts},
        },
    }


def texts(codec: RtfCodec, ids: torch.Tensor) -> list[list[str]]:
    names = codec.token_names()
    return [[names[i].split("___")[-1] for i in row[1:-1]] for row in ids.tolist()]


def test_special_tokens_come_first_then_each_position_in_order():
    codec = RtfCodec.from_rtf_config(hand_config())
    names = codec.token_names()
    assert names[PAD_ID] == "[PAD]" and names[BOS_ID] == "[BOS]" and names[EOS_ID] == "[EOS]"
    assert names[3:6] == ["0___CATEGORICAL___color___<NA>", "0___CATEGORICAL___color___blue",
                          "0___CATEGORICAL___color___red"]
    assert codec.vocab_size == 11 + 3 + 16 + 6 and codec.sequence_length == 10  # specials, color, x, n
    assert sorted(codec.order.tolist()) == list(range(codec.vocab_size))  # a permutation of REaLTabFormer's ids


def test_encode_writes_numbers_as_realtabformer_does():
    codec = RtfCodec.from_rtf_config(hand_config())
    assert texts(codec, codec.encode(FRAME)) == [
        ["red", "0", "1", ".", "5", "0", "0", "7"],     # 1.5 -> '1.5' -> '01.5' -> '01.50'; 7 -> '07'
        ["<NA>", "@", "@", "@", "@", "@", "4", "2"],    # a missing number is '@' in every part
        ["blue", "-", "3", ".", "5", "0", "-", "5"],    # -3.5 -> '-3.5' (already 2 before the point) -> '-3.50'
    ]


def test_encode_cuts_numbers_into_parts_of_numeric_nparts():
    positions = {"0___CATEGORICAL___color": ["<NA>", "blue", "red"], "1___NUMERIC___x_00": ["-3", "01", "@@"],
                 "1___NUMERIC___x_01": [".5", "@@"], "1___NUMERIC___x_02": ["0", "5", "@@"],
                 "2___NUMERIC___n_00": ["-5", "07", "42"]}
    codec = RtfCodec.from_rtf_config(hand_config(positions, nparts=2))
    frame = FRAME.assign(x=[1.5, np.nan, -3.5])
    assert texts(codec, codec.encode(frame)) == [["red", "01", ".5", "0", "07"], ["<NA>", "@@", "@@", "@@", "42"],
                                                 ["blue", "-3", ".5", "0", "-5"]]


def test_decode_reads_the_parts_back_into_values_and_dtypes():
    codec = RtfCodec.from_rtf_config(hand_config())
    decoded = codec.decode(codec.encode(FRAME))
    pd.testing.assert_frame_equal(decoded, FRAME, check_exact=True)
    assert decoded.dtypes.astype(str).tolist() == ["object", "float64", "int64"]


def test_decode_strips_leading_zeros_like_realtabformer():
    codec = RtfCodec.from_rtf_config(hand_config())
    names = codec.token_names()

    def row(*parts: str) -> list[int]:
        return [BOS_ID] + [names.index(f"{p}___{v}") for p, v in zip(POSITIONS, parts, strict=True)] + [EOS_ID]

    decoded = codec.decode(torch.tensor([row("red", "0", "3", ".", "2", "5", "0", "2"),   # '03.25' -> 3.25, '02'
                                         row("red", "-", "1", ".", "5", "0", "-", "5"),   # '-1.50' -> -1.5
                                         row("red", "0", "1", ".", "2", "0", "4", "7")]))  # 1.2, 47: new values
    assert decoded["x"].tolist() == [3.25, -1.5, 1.2] and decoded["n"].tolist() == [2, -5, 47]


def test_a_number_is_all_missing_or_all_digits():
    codec = RtfCodec.from_rtf_config(hand_config())
    names = codec.token_names()
    static = codec.allowed_mask()
    first_missing = torch.tensor([[BOS_ID, names.index("0___CATEGORICAL___color___red"),
                                   names.index("1___NUMERIC___x_00___@")]])
    first_digit = first_missing.clone()
    first_digit[0, 2] = names.index("1___NUMERIC___x_00___0")
    allowed = [names[i].split("___")[-1] for i in codec.allowed_next(first_missing, static)[0].nonzero().flatten()]
    assert allowed == ["@"]
    allowed = [names[i].split("___")[-1] for i in codec.allowed_next(first_digit, static)[0].nonzero().flatten()]
    assert allowed == ["1", "2", "3"]
    assert static[0].sum() == 3 and static[-1].nonzero().flatten().tolist() == [EOS_ID]


def test_logit_bias_of_rows_equals_what_the_sampler_allows():
    codec = RtfCodec.from_rtf_config(hand_config())
    ids = codec.encode(FRAME)
    bias = codec.logit_bias(ids)
    for t in range(codec.sequence_length - 1):
        assert torch.equal(bias[:, t] == 0, codec.allowed_next(ids[:, : t + 1]))
    assert torch.isfinite(bias.gather(2, ids[:, 1:, None])).all()  # the true next token is always allowed


def test_save_load_round_trip(tmp_path):
    codec = RtfCodec.from_rtf_config(hand_config())
    codec.save(tmp_path)
    assert RtfCodec.load(tmp_path) == codec
    from fuseprune.tabular.codec import load_codec

    assert load_codec(tmp_path) == codec


def test_metadata_gives_sdmetrics_kinds():
    codec = RtfCodec.from_rtf_config(hand_config())
    assert codec.metadata() == {"columns": {"color": {"sdtype": "categorical"}, "x": {"sdtype": "numerical"},
                                            "n": {"sdtype": "numerical"}}}


@pytest.mark.parametrize(("frame", "message"), [
    (FRAME.assign(color=["red", "green", "blue"]), "holds 'green'"),
    (FRAME.assign(x=[1.5, 2.75, 1.5]), "holds 2.75"),                 # '02.75': no 7 in the 4th part
    (FRAME.assign(n=[7, 420, 1]), "holds 420"),                       # three digits in two parts
    (FRAME.assign(n=[7.5, 42, 1]), "must hold numbers"),               # not a whole number
    (FRAME.rename(columns={"n": "m"}), "missing ['n']"),
])
def test_encode_refuses_values_the_vocabulary_cannot_write(frame, message):
    codec = RtfCodec.from_rtf_config(hand_config())
    with pytest.raises(Exception, match=message.replace("[", r"\[").replace("]", r"\]")) as info:
        codec.encode(frame)
    assert "\n" not in str(info.value)


def broken(change) -> dict:
    config = hand_config()
    change(config)
    return config


@pytest.mark.parametrize(("change", "message"), [
    (lambda c: c["col_idx_ids"].update({"2": c["col_idx_ids"]["7"]}), "not one of that column's tokens"),
    (lambda c: c["col_idx_ids"].pop("7"), "malformed"),
    (lambda c: c["col_transform_data"].pop("x"), "no col_transform_data"),
    (lambda c: c["columns"].append("y"), "no token position writes column(s) y"),
    (lambda c: c["vocab"]["id2token"].pop(5), "malformed"),
])
def test_inconsistent_vocabularies_are_refused_with_one_line(change, message):
    with pytest.raises(CodecError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        RtfCodec.from_rtf_config(broken(change))
    assert "\n" not in str(info.value)


def test_date_columns_are_refused_for_now():
    positions = {"0___DATETIME___color_00": ["0", "1"], **{k: v for k, v in POSITIONS.items() if "color" not in k}}
    with pytest.raises(CodecError, match="holds dates; REaLTabFormer date columns are not supported yet"):
        RtfCodec.from_rtf_config(hand_config(positions))


def test_parse_handles_realtabformer_edge_texts():
    from fuseprune.tabular.realtabformer.text import parse_number

    assert parse_number("000") == 0.0 and parse_number("00.0") == 0.0 and parse_number("01.2.5") == 1.25
    assert math.copysign(1, parse_number("-00.5")) == -1 and parse_number("-00.5") == -0.5


@pytest.mark.parametrize(("text", "message"), [
    (b'{"kind": "realtabformer",\n "tokens": [1,]}', " (not JSON: Expecting value at line 2 column 15)."),
    (b'{"kind": "r\xe9altabformer"}', " (not UTF-8 text)."),
    (b'"realtabformer"', ": a codec must be a JSON object; got str."),
    (b"null", ": a codec must be a JSON object; got NoneType."),
])
def test_every_codec_loader_reads_codec_json_the_same_way(tmp_path, text, message):
    from fuseprune.tabular.codec import TableCodec, load_codec

    (tmp_path / "codec.json").write_bytes(text)
    for load in (load_codec, TableCodec.load, RtfCodec.load):
        with pytest.raises(CodecError) as info:
            load(tmp_path)
        assert str(info.value) == f"{str(tmp_path / 'codec.json')!r} is not a valid codec file{message}"


def test_load_codec_reads_a_table_codec_with_or_without_its_kind(tmp_path):
    from fuseprune.tabular.codec import TableCodec, load_codec

    codec = TableCodec.fit(pd.DataFrame({"a": ["x", "y", "x"]}))
    (tmp_path / "codec.json").write_text(json.dumps({"kind": "table", **codec.to_dict()}))
    assert load_codec(tmp_path) == codec
    (tmp_path / "codec.json").write_text(json.dumps({**codec.to_dict(), "kind": "realtabformer"}))
    with pytest.raises(CodecError, match="codec.json' is not a valid codec file: codec lacks field 'tokens'."):
        load_codec(tmp_path)
