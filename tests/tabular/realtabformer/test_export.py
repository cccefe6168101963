"""Export to REaLTabFormer's format: imported models after prune and distil, and models fuseprune trained."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from fuseprune.tabular import TableCodec, make_tabular_plan, prune_tabular, sample_ids, split_of
from fuseprune.tabular.realtabformer import RtfCodec, export_realtabformer, import_realtabformer
from fuseprune.tabular.realtabformer.translate import translate

from .conftest import FIXTURE, fixture_config, fixture_data


@pytest.fixture(scope="module")
def student(imported):
    """The fixture with one layer removed and distilled for one epoch."""
    from fuseprune.data import load_table
    from fuseprune.distill import DistillConfig
    from fuseprune.tabular import distill_tabular

    train, _ = split_of(imported, load_table(imported.info["data"]["source"]))
    plan = make_tabular_plan(imported, train, "random", remove=1, n_rows=64)
    healed, _ = distill_tabular(prune_tabular(imported, plan), imported, train, DistillConfig(max_epochs=1))
    return healed


def test_export_of_a_pruned_distilled_import_reimports_with_equal_logits(student, tmp_path):
    folder = export_realtabformer(student, tmp_path / "rtf")
    assert sorted(p.name for p in folder.iterdir()) == [".fuseprune", "rtf_config.json", "rtf_model.pt"]
    again = import_realtabformer(folder)
    assert again.codec == student.codec and again.model.config.n_layer == 2
    ids = student.codec.encode(fixture_data().head(64))
    with torch.no_grad():
        assert torch.equal(again.model(input_ids=ids).logits, student.model(input_ids=ids).logits)


def test_export_of_an_import_keeps_realtabformers_vocabulary_and_weights_layout(student, tmp_path):
    folder = export_realtabformer(student, tmp_path / "rtf")
    config, original = json.loads((folder / "rtf_config.json").read_text()), fixture_config()
    for key in ("vocab", "processed_columns", "col_idx_ids", "columns", "column_dtypes", "col_transform_data"):
        assert config[key] == original[key], key
    assert config["tabular_config"]["n_layer"] == 2 and config["tabular_config"]["bos_token_id"] == 5
    state = torch.load(folder / "rtf_model.pt", weights_only=True)
    saved = torch.load(FIXTURE / "rtf_model.pt", weights_only=True)
    assert set(state) == {k for k in saved if not k.startswith("transformer.h.2.")}
    # a token keeps its REaLTabFormer row: "[BOS]" is row 5 in both, fuseprune's id 1
    assert torch.equal(state["transformer.wte.weight"][5], student.model.transformer.wte.weight[1])


def test_export_replaces_only_its_own_exports_unless_told(student, tmp_path):
    from fuseprune.errors import OutputError

    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "rtf_model.pt").write_bytes(b"precious")
    with pytest.raises(OutputError, match="exists and was not written by fuseprune"):
        export_realtabformer(student, tmp_path / "theirs")
    assert (tmp_path / "theirs" / "rtf_model.pt").read_bytes() == b"precious"
    export_realtabformer(student, tmp_path / "ours")
    student.to_realtabformer(tmp_path / "ours")  # its own export it may replace
    student.to_realtabformer(tmp_path / "theirs", overwrite=True)
    assert sorted(p.name for p in (tmp_path / "theirs").iterdir()) == [".fuseprune", "rtf_config.json", "rtf_model.pt"]
    assert import_realtabformer(tmp_path / "theirs").model.config.n_layer == 2


# --- a fuseprune TableCodec in REaLTabFormer's terms, worked out by hand -----------------------

FRAME = pd.DataFrame({"city": ["a", "b", "a", None, "b"], "score": [1, 10, 3, 1, 3],
                      "temp": [-2.5, 12.0, 30.5, np.nan, 7.0]})


def hand_codec() -> TableCodec:
    return TableCodec.fit(FRAME, max_values=3)  # score: 3 values -> one token each; temp: 4 -> digits


def test_translation_writes_each_position_as_realtabformer_reads_it():
    codec = hand_codec()
    assert [c.encoding for c in codec.columns] == ["values", "values", "digits"]
    rtf, rtf_of = translate(codec)
    assert rtf.processed_columns == ("0___CATEGORICAL___city", "1___NUMERIC___score_00", "2___NUMERIC___temp_00",
                                     "2___NUMERIC___temp_01", "2___NUMERIC___temp_02", "2___NUMERIC___temp_03")
    texts = [[rtf.tokens[i].split("___")[-1] for i in ids] for ids in rtf.position_ids]
    assert texts[0] == ["a", "b", "<NA>"]
    assert texts[1] == ["01", "03", "10"]                       # zero-filled as REaLTabFormer fills whole numbers
    assert texts[2] == ["", "-", "@"]                           # sign: nothing, minus, missing
    assert texts[3] == ["0", "1", "2", "3"]                     # |temp| * 10 <= 305: leading digit 0-3
    assert texts[4] == [f"{d}." for d in range(10)]             # the unit digit carries the point
    assert texts[5] == [str(d) for d in range(10)]
    assert rtf_of[:3].tolist() == [2, 5, 6]                     # [PAD], [BOS], [EOS] in REaLTabFormer's vocabulary
    joined = ["".join(rtf.tokens[rtf_of[i]].split("___")[-1] for i in row[3:7]) for row in codec.encode(FRAME).tolist()]
    assert joined == ["-02.5", "12.0", "30.5", "@00.0", "07.0"]


def test_translated_codec_decodes_our_tokens_into_our_values():
    codec = hand_codec()
    rtf, rtf_of = translate(codec)
    to_rtf_codec = torch.as_tensor(np.argsort(rtf.order)[rtf_of])
    ids = codec.encode(FRAME)
    expected = FRAME.copy()
    expected.loc[3, "city"] = np.nan  # REaLTabFormer's decoding writes a missing category as NaN, not None
    pd.testing.assert_frame_equal(rtf.decode(to_rtf_codec[ids]), expected)
    assert torch.equal(rtf.encode(FRAME), to_rtf_codec[ids])


def test_a_model_fuseprune_trained_exports_and_reimports_with_equal_logits(tiny_bundle, wisconsin, tmp_path):
    folder = export_realtabformer(tiny_bundle, tmp_path / "rtf")
    again = import_realtabformer(folder)
    assert isinstance(again.codec, RtfCodec)
    rtf, rtf_of = translate(tiny_bundle.codec)
    to_again = torch.as_tensor(np.argsort(again.codec.order)[rtf_of])
    ids = tiny_bundle.codec.encode(wisconsin.frame.head(64))
    with torch.no_grad():
        ours = tiny_bundle.model.eval()(input_ids=ids).logits
        theirs = again.model(input_ids=to_again[ids]).logits[..., to_again]
    assert torch.equal(ours, theirs)
    sampled = sample_ids(tiny_bundle.model, tiny_bundle.codec, 200, seed=0)
    pd.testing.assert_frame_equal(again.codec.decode(to_again[sampled]), tiny_bundle.codec.decode(sampled))
