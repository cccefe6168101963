"""Sampling an imported REaLTabFormer model: its codec's constraint tables, the lean decoder, Parquet output."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from fuseprune.errors import CodecError
from fuseprune.tabular import TabularGPT, build_model, sample_ids, sample_rows
from fuseprune.tabular.realtabformer.codec import RtfCodec

from .conftest import FIXTURE, fixture_data
from .test_codec import POSITIONS, hand_config


def allowed_by_codec(codec: RtfCodec, ids: torch.Tensor, width: int) -> torch.Tensor:
    """What ``logit_bias(ids)`` allows, cut to the ids the tables cover (the rest is never allowed)."""
    allowed = codec.logit_bias(ids) == 0
    assert not allowed[..., width:].any()  # REaLTabFormer's other special tokens come last; no position has them
    return allowed[..., :width]


def test_tables_allow_what_the_codec_allows_along_the_fixtures_real_rows(imported):
    codec = imported.codec
    data = fixture_data()
    assert data["age"].isna().sum() > 100  # both states of the number rule are exercised
    ids = codec.encode(data)
    tables = codec.constraint_tables()
    assert torch.equal(tables.allowed(ids), allowed_by_codec(codec, ids, max(tables.high)))


def test_tables_allow_what_the_codec_allows_along_rows_that_wander_everywhere():
    codec = RtfCodec.from_rtf_config(hand_config())
    model = build_model(codec, "tiny", seed=0)  # untrained: every allowed token turns up
    ids = sample_ids(model, codec, 2000, seed=0)
    rows = codec.decode(ids)
    assert rows["x"].isna().any() and rows["x"].notna().any() and rows["color"].isna().any()
    tables = codec.constraint_tables()
    assert torch.equal(tables.allowed(ids), allowed_by_codec(codec, ids, max(tables.high)))


def test_a_numbers_parts_are_all_missing_or_all_digits_in_the_tables():
    codec = RtfCodec.from_rtf_config(hand_config())
    tables = codec.constraint_tables()
    # positions: 0 color, 1-5 x (every part can be missing), 6-7 n (never missing), 8 EOS
    assert [len(b) for b in tables.bias] == [1, 1, 2, 2, 2, 2, 1, 1, 1]
    assert [len(n) for n in tables.next_state] == [1, 1, 2, 2, 2, 2, 1, 1, 1]
    assert tables.start == 0 and (tables.low[-1], tables.high[-1]) == (2, 3)
    texts = {t: POSITIONS[name] for t, name in enumerate(POSITIONS)}
    assert tables.next_state[1][0].tolist() == [0, 0, 0, 1]  # x_00: '-', '0', '1' are digits, '@' is missing

    def allowed(t: int, state: int) -> list[str]:
        return [text for text, b in zip(texts[t], tables.bias[t][state].tolist(), strict=True) if b == 0]

    assert [allowed(t, 0) for t in range(2, 6)] == [["1", "2", "3"], ["."], ["2", "5"], ["0", "5"]]
    assert [allowed(t, 1) for t in range(2, 6)] == [["@"], ["@"], ["@"], ["@"]]
    assert tables.next_state[5].tolist() == [[0, 0, 0], [0, 0, 0]]  # the last part of x: back to state 0
    assert allowed(6, 0) == ["-", "0", "4"]  # n starts afresh


def test_the_parts_of_a_number_must_be_consecutive_positions():
    names = list(POSITIONS)
    interleaved = {name: POSITIONS[name] for name in names[:3] + names[6:7] + names[3:6] + names[7:]}
    with pytest.raises(CodecError, match=r"^the token positions of column 'x' \(1, 2, 4, 5, 6\) are not "
                                         r"consecutive; the vocabulary does not match\.$"):
        RtfCodec.from_rtf_config(hand_config(interleaved))


def test_example_row_has_every_dtype_and_no_missing_value():
    codec = RtfCodec.from_rtf_config(hand_config())
    # the first token writing a value at each position: color 'blue' ('<NA>' comes first),
    # x '-' '1' '.' '2' '0' -> -1.2, n '-' '2' -> -2
    expected = pd.DataFrame({"color": ["blue"], "x": [-1.2], "n": [-2]})
    pd.testing.assert_frame_equal(codec.example_row(), expected, check_exact=True)


def test_example_row_of_the_fixture_has_its_dtypes(imported):
    row = imported.codec.example_row()
    assert len(row) == 1 and not row.isna().any().any()
    assert row.dtypes.to_dict() == imported.codec.decode(imported.codec.encode(fixture_data())).dtypes.to_dict()


def test_the_lean_decoder_draws_the_rows_of_the_transformers_forward(imported, monkeypatch):
    from fuseprune.tabular import sampler
    from fuseprune.tabular.decoder import HFStepper, LeanGPT2, unsupported_reason

    assert unsupported_reason(imported.model.eval()) is None
    made, make = [], sampler.make_stepper
    monkeypatch.setattr(sampler, "make_stepper", lambda model: made.append(make(model)) or made[-1])
    lean = sample_ids(imported.model, imported.codec, 300, seed=2)
    assert isinstance(made[0], LeanGPT2)  # the lean engine really ran
    monkeypatch.setattr(sampler, "make_stepper", HFStepper)
    assert torch.equal(sample_ids(imported.model, imported.codec, 300, seed=2), lean)


def test_sample_writes_an_imported_models_rows_to_parquet(tmp_path, capsys):
    import pyarrow.parquet as pq

    from fuseprune.cli import main

    model, out = tmp_path / "model", tmp_path / "rows.parquet"
    assert main(["import-rtf", str(FIXTURE), "--data", str(FIXTURE / "data.csv"), "--out", str(model)]) == 0
    assert main(["sample", str(model), "--rows", "300", "--seed", "1", "--chunk-rows", "64",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    rows = pd.read_parquet(out)
    assert rows.dtypes.astype(str).to_dict() == {
        "survived": "object", "sex": "object", "age": "float64", "passengerClass": "object"}
    assert rows["age"].isna().any()
    assert {f.name: str(f.type) for f in pq.read_schema(out)} == {
        "survived": "string", "sex": "string", "age": "double", "passengerClass": "string"}
    pd.testing.assert_frame_equal(rows, sample_rows(TabularGPT.load(model), 300, seed=1))
