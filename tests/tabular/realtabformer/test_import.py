"""Importing the REaLTabFormer fixture: its logits, its tokens, the rows it samples, and everything downstream."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from transformers import GPT2LMHeadModel

from fuseprune.tabular import TabularGPT, sample_ids, sample_rows, split_of
from fuseprune.tabular.realtabformer import RtfCodec, import_realtabformer

from .conftest import FIXTURE, fixture_config, fixture_data, ours, reference


def test_imported_model_is_a_plain_gpt2_of_the_saved_shape(imported):
    config = fixture_config()["tabular_config"]
    assert isinstance(imported.model, GPT2LMHeadModel) and isinstance(imported.codec, RtfCodec)
    assert (imported.model.config.n_layer, imported.model.config.n_embd, imported.model.config.n_head) == (3, 64, 2)
    assert imported.model.config.vocab_size == config["vocab_size"] == 65
    assert imported.model.lm_head.weight.data_ptr() == imported.model.transformer.wte.weight.data_ptr()
    assert imported.codec.column_names == ["survived", "sex", "age", "passengerClass"]
    assert imported.codec.sequence_length == fixture_config()["tabular_max_length"] == 12


def test_logits_equal_realtabformers_own(imported):
    ref = reference()
    with torch.no_grad():
        logits = imported.model(input_ids=ours(imported.codec, ref["input_ids"])).logits
    expected = ref["logits"][:, :, torch.as_tensor(imported.codec.order)]  # REaLTabFormer's logits in our order
    assert logits.shape == expected.shape == (12, 12, 65)  # 8 table rows and 4 random valid sequences
    assert (logits - expected).abs().max() < 1e-5


def test_rows_encode_to_the_tokens_realtabformer_trained_on(imported):
    ref = reference()
    rows = ref["rows"].tolist()
    assert rows[-2:] == [15, 37]  # two rows whose age is missing
    encoded = imported.codec.encode(fixture_data().iloc[rows])
    assert torch.equal(torch.as_tensor(imported.codec.order)[encoded], ref["input_ids"][: len(rows)])


def test_the_whole_training_table_round_trips(imported):
    data = fixture_data()
    pd.testing.assert_frame_equal(imported.codec.decode(imported.codec.encode(data)), data)


def test_sampled_rows_are_rows_realtabformer_could_write(imported):
    ids = sample_ids(imported.model, imported.codec, 400, seed=0)
    rows = imported.codec.decode(ids)
    theirs = pd.read_csv(FIXTURE / "rtf_samples.csv")  # REaLTabFormer's own sample() of the same model
    assert list(rows.columns) == list(theirs.columns)
    assert rows.dtypes.astype(str).to_dict() == theirs.dtypes.astype(str).to_dict() == {
        "survived": "object", "sex": "object", "age": "float64", "passengerClass": "object"}
    assert set(rows["survived"]) <= {"no", "yes"} and set(rows["sex"]) <= {"female", "male"}
    assert set(rows["passengerClass"]) <= {"1st", "2nd", "3rd"}
    # Every value is one the vocabulary writes exactly (the same tokens back), so numbers are at its precision.
    assert torch.equal(imported.codec.encode(rows), ids)
    age = rows["age"].dropna()
    assert age.map(lambda v: round(v, 4) == v).all() and age.between(0, 99.9999).all()
    assert 0 < rows["age"].isna().mean() < 0.5


def test_save_and_load_keep_the_codec_and_logits(imported, tmp_path):
    imported.save(tmp_path / "model")
    loaded = TabularGPT.load(tmp_path / "model")
    assert isinstance(loaded.codec, RtfCodec) and loaded.codec == imported.codec
    assert loaded.info["realtabformer"]["realtabformer_version"] == "0.2.4"
    ids = imported.codec.encode(fixture_data().head(20))
    with torch.no_grad():
        assert torch.equal(loaded.model(input_ids=ids).logits, imported.model(input_ids=ids).logits)
    pd.testing.assert_frame_equal(sample_rows(loaded, 50, seed=3), sample_rows(imported, 50, seed=3))


def test_recorded_data_gives_the_usual_split(imported):
    from fuseprune.data import load_table

    table = load_table(imported.info["data"]["source"])
    assert imported.info["data"] == {
        "source": str(FIXTURE / "data.csv"), "holdout": 0.2, "split_seed": 0, "sha256": table.sha256,
        "kinds": {"survived": "categorical", "sex": "categorical", "age": "numerical", "passengerClass": "categorical"},
        "read": {"delimiter": ",", "drop_columns": [], "column_types": {}}}
    train, holdout = split_of(imported, table)
    assert (len(train), len(holdout)) == (1047, 262)


def test_data_that_does_not_fit_the_vocabulary_is_refused(tmp_path):
    from fuseprune.errors import FusepruneError

    odd = fixture_data()
    odd.loc[0, "passengerClass"] = "crew"
    odd.to_csv(tmp_path / "odd.csv", index=False)
    with pytest.raises(FusepruneError, match="column 'passengerClass' holds 'crew'"):
        import_realtabformer(FIXTURE, str(tmp_path / "odd.csv"))


@pytest.mark.slow
def test_score_plan_prune_distil_and_evaluate_work_on_an_imported_model(imported):
    from fuseprune.data import load_table
    from fuseprune.distill import DistillConfig
    from fuseprune.tabular import EvalConfig, distill_tabular, evaluate, make_tabular_plan, prune_tabular, score_tabular

    train, holdout = split_of(imported, load_table(imported.info["data"]["source"]))
    scores = score_tabular(imported, train, ["block_influence", "taylor"], n_rows=64, batch_size=32)
    assert scores.num_layers == 3 and len(scores.scores) == 2
    plan = make_tabular_plan(imported, train, "block_influence", remove=1, n_rows=64)
    student = prune_tabular(imported, plan)
    assert student.model.config.n_layer == 2 and isinstance(student.codec, RtfCodec)
    healed, history = distill_tabular(student, imported, train, DistillConfig(max_epochs=1), layer_map=plan.kept_layers)
    assert len(history.val_loss) == 1 and healed.info["pruning"]["kept_layers"] == list(plan.kept_layers)
    record = evaluate(healed, train, holdout, EvalConfig(seeds=(0,), n_rows=100, speed_rows=64, speed_repeats=1))
    assert 0.5 < record.quality <= 1.0 and record.holdout_nll > 0 and record.layers == 2
