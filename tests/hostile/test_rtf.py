"""Hostile input to import-rtf and export-rtf: each refused with one line, exit code 2, nothing written."""

from __future__ import annotations

import json
import pathlib
import shutil
from pathlib import Path

import pytest
import torch

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "rtf-titanic"


def copy_fixture(root: Path, name: str = "rtf") -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    for file in ("rtf_config.json", "rtf_model.pt"):
        shutil.copyfile(FIXTURE / file, folder / file)
    return folder


def edit_config(folder: Path, change) -> None:
    config = json.loads((folder / "rtf_config.json").read_text())
    change(config)
    (folder / "rtf_config.json").write_text(json.dumps(config))


class RunsCode:
    """Unpickling this calls ``Path.touch(marker)``: a stand-in for any code a pickle can run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_a_folder_that_is_not_a_realtabformer_save(refused, tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("hello")
    refused(["import-rtf", tmp_path / "notes", "--out", tmp_path / "model"], tmp_path,
            "is not a REaLTabFormer save: it has no rtf_config.json")


def test_the_parent_of_the_experiment_folder_points_to_it(refused, tmp_path):
    copy_fixture(tmp_path / "saved", "id000123")
    err = refused(["import-rtf", tmp_path / "saved", "--out", tmp_path / "model"], tmp_path, "did you mean")
    assert "id000123" in err


def test_a_missing_folder(refused, tmp_path):
    refused(["import-rtf", tmp_path / "nope", "--out", tmp_path / "model"], tmp_path, "does not exist")


def test_a_relational_model(refused, tmp_path):
    folder = copy_fixture(tmp_path)
    edit_config(folder, lambda c: c.update(model_type="relational"))
    refused(["import-rtf", folder, "--out", tmp_path / "model"], tmp_path,
            "holds a relational REaLTabFormer model (an encoder-decoder); "
            "fuseprune imports tabular (GPT-2) models only")


def test_a_truncated_model_file(refused, tmp_path):
    folder = copy_fixture(tmp_path)
    data = (folder / "rtf_model.pt").read_bytes()
    (folder / "rtf_model.pt").write_bytes(data[: len(data) // 2])
    refused(["import-rtf", folder, "--out", tmp_path / "model"], tmp_path, "it is truncated or corrupt")


def test_a_model_file_holding_a_pickled_object_is_refused_without_running_it(refused, tmp_path):
    folder = copy_fixture(tmp_path)
    state = torch.load(FIXTURE / "rtf_model.pt", weights_only=True)
    proof, marker = tmp_path / "proof", tmp_path / "ran"
    torch.save({"payload": RunsCode(proof)}, tmp_path / "proof.pt")
    torch.load(tmp_path / "proof.pt", weights_only=False)  # plain unpickling would run it:
    assert proof.exists()
    (tmp_path / "proof.pt").unlink()
    torch.save({**state, "payload": RunsCode(marker)}, folder / "rtf_model.pt")
    refused(["import-rtf", folder, "--out", tmp_path / "model"], tmp_path,
            "holds more than tensors (a pickled object: getattr); fuseprune loads only plain tensors")
    assert not marker.exists()


def test_a_vocabulary_that_does_not_match_the_weights(refused, tmp_path):
    folder = copy_fixture(tmp_path)

    def add_a_class(config):
        config["vocab"]["id2token"]["65"] = "3___CATEGORICAL___passengerClass___4th"
        config["col_idx_ids"]["9"].append(65)
        config["tabular_config"]["vocab_size"] = 66

    edit_config(folder, add_a_class)
    refused(["import-rtf", folder, "--out", tmp_path / "model"], tmp_path,
            "rtf_config.json's vocabulary has 66 tokens but rtf_model.pt's embedding has 65 rows")


def test_positions_that_point_at_another_columns_tokens(refused, tmp_path):
    folder = copy_fixture(tmp_path)
    edit_config(folder, lambda c: c["col_idx_ids"].update({"0": [13, 14]}))
    refused(["import-rtf", folder, "--out", tmp_path / "model"], tmp_path, "not one of that column's tokens")


def test_a_config_with_fewer_layers_than_the_weights(refused, tmp_path):
    folder = copy_fixture(tmp_path)
    edit_config(folder, lambda c: c["tabular_config"].update(n_layer=2))
    refused(["import-rtf", folder, "--out", tmp_path / "model"], tmp_path,
            "tabular_config says n_layer 2 but rtf_model.pt holds 3 layers")


def test_a_gpt2_config_no_model_can_have(refused, tmp_path):
    folder = copy_fixture(tmp_path)
    edit_config(folder, lambda c: c["tabular_config"].update(n_head=3))
    refused(["import-rtf", folder, "--out", tmp_path / "model"], tmp_path, "n_embd divisible by n_head")


def test_a_config_whose_fields_have_the_wrong_types(refused, tmp_path):
    folder = copy_fixture(tmp_path)
    edit_config(folder, lambda c: c.update(column_dtypes=["float64"], vocab="none"))
    refused(["import-rtf", folder, "--out", tmp_path / "model"], tmp_path,
            "lacks (or has malformed) vocab, column_dtypes")


def test_a_config_that_is_not_json(refused, tmp_path):
    folder = copy_fixture(tmp_path)
    (folder / "rtf_config.json").write_text("{not json")
    refused(["import-rtf", folder, "--out", tmp_path / "model"], tmp_path, "is not valid JSON")


def test_data_that_does_not_fit_the_vocabulary(refused, tmp_path):
    folder = copy_fixture(tmp_path)
    refused(["import-rtf", folder, "--out", tmp_path / "model", "--data", "iris"], tmp_path,
            "data columns do not match the model's codec")


def test_import_over_a_folder_fuseprune_did_not_write(refused, tmp_path):
    folder = copy_fixture(tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("years of work")
    refused(["import-rtf", folder, "--out", tmp_path / "mine"], tmp_path, "was not written by fuseprune")


@pytest.fixture(scope="module")
def imported_dir(tmp_path_factory):
    from fuseprune.tabular.realtabformer import import_realtabformer

    return import_realtabformer(FIXTURE).save(tmp_path_factory.mktemp("imported") / "model")


def test_export_over_the_users_own_realtabformer_folder(refused, tmp_path, imported_dir):
    theirs = copy_fixture(tmp_path, "their-model")
    refused(["export-rtf", imported_dir, "--out", theirs], tmp_path, "was not written by fuseprune")


def test_export_of_a_folder_that_is_no_model(refused, tmp_path):
    (tmp_path / "empty").mkdir()
    refused(["export-rtf", tmp_path / "empty", "--out", tmp_path / "rtf"], tmp_path, "no config.json")


# ---------------------------------------------------------------- outputs: --out is checked before any work

FOREIGN = "exists and was not written by fuseprune (it holds 'thesis.tex'); pick a new --out or pass --overwrite."


def users_folder(root: Path, name: str = "mine") -> Path:
    (root / name).mkdir()
    (root / name / "thesis.tex").write_text("years of work")
    return root / name


def test_import_onto_a_users_folder_is_refused_before_the_model_is_read(refused, tmp_path):
    refused(["import-rtf", tmp_path / "no-such-save", "--out", users_folder(tmp_path)], tmp_path, FOREIGN)


def test_import_onto_a_file(refused, tmp_path):
    (tmp_path / "model").write_text("mine")
    refused(["import-rtf", copy_fixture(tmp_path), "--out", tmp_path / "model"], tmp_path,
            "model' is a file, not a folder; pick a new --out or pass --overwrite.")


def test_import_onto_a_realtabformer_export(refused, tmp_path, imported_dir):
    from fuseprune.tabular import TabularGPT

    TabularGPT.load(imported_dir).to_realtabformer(tmp_path / "exported")
    refused(["import-rtf", copy_fixture(tmp_path), "--out", tmp_path / "exported"], tmp_path,
            "is a fuseprune REaLTabFormer export folder, not a model folder")


def test_export_onto_a_users_folder_is_refused_before_the_model_is_loaded(refused, tmp_path):
    refused(["export-rtf", tmp_path / "no-such-model", "--out", users_folder(tmp_path)], tmp_path, FOREIGN)


def test_export_onto_a_realtabformer_save_of_the_user(refused, tmp_path, imported_dir):
    theirs = copy_fixture(tmp_path, "their-model")
    refused(["export-rtf", imported_dir, "--out", theirs], tmp_path,
            "exists and was not written by fuseprune (it holds 'rtf_config.json'); pick a new --out or pass")


def test_export_onto_a_model_folder(refused, tmp_path, imported_dir):
    model = Path(shutil.copytree(imported_dir, tmp_path / "model"))
    refused(["export-rtf", imported_dir, "--out", model], tmp_path,
            "is a fuseprune model folder, not a REaLTabFormer export folder")


def test_export_onto_an_export_the_user_added_to(refused, tmp_path, imported_dir):
    from fuseprune.tabular import TabularGPT

    TabularGPT.load(imported_dir).to_realtabformer(tmp_path / "exported")
    (tmp_path / "exported" / "notes.txt").write_text("mine")
    refused(["export-rtf", imported_dir, "--out", tmp_path / "exported"], tmp_path,
            "holds 'notes.txt', which fuseprune did not write; pick a new --out or pass --overwrite.")


def test_export_of_a_model_whose_weights_changed(refused, tmp_path, imported_dir):
    model = Path(shutil.copytree(imported_dir, tmp_path / "model"))
    data = bytearray((model / "model.safetensors").read_bytes())
    data[-4] ^= 0x01
    (model / "model.safetensors").write_bytes(bytes(data))
    refused(["export-rtf", model, "--out", tmp_path / "rtf"], tmp_path,
            "does not match the sha256 recorded when it was saved")


# ---------------------------------------------------------------- options

@pytest.mark.parametrize(("option", "value", "message"), [
    ("--holdout", "2", "argument --holdout: must be a finite number greater than 0 and at most 1; got '2'"),
    ("--holdout", "0", "argument --holdout: must be a finite number greater than 0"),
    ("--holdout", "nan", "argument --holdout: must be a finite number"),
    ("--split-seed", "-1", "argument --split-seed: must be between 0 and 4,294,967,295; got -1"),
    ("--split-seed", "2.5", "argument --split-seed: must be an integer"),
])
def test_import_options_out_of_range(refused, tmp_path, option, value, message):
    refused(["import-rtf", copy_fixture(tmp_path), "--data", FIXTURE / "data.csv", "--out", tmp_path / "model",
             option, value], tmp_path, message)


def test_table_options_without_data(refused, tmp_path):
    refused(["import-rtf", copy_fixture(tmp_path), "--delimiter", ";", "--out", tmp_path / "model"], tmp_path,
            "--delimiter, --drop-column and --column-type say how to read --data; pass --data too.")


def test_data_read_with_a_declared_kind_that_does_not_fit(refused, tmp_path):
    refused(["import-rtf", copy_fixture(tmp_path), "--data", FIXTURE / "data.csv", "--column-type",
             "sex=numerical", "--out", tmp_path / "model"], tmp_path,
            "column 'sex' is declared numerical but 1309 of 1309 values are not numbers")


# ---------------------------------------------------------------- an edited codec.json of an imported model

def edit_codec(change):
    def damage(folder: Path) -> None:
        codec = json.loads((folder / "codec.json").read_text())
        change(codec)
        (folder / "codec.json").write_text(json.dumps(codec))
    return damage


def write_codec(text: bytes):
    return lambda folder: (folder / "codec.json").write_bytes(text)


def column(index: int, **fields):
    return edit_codec(lambda c: c["columns"][index].update(fields))


CODEC_CASES = {
    "kind-bogus": (edit_codec(lambda c: c.update(kind="bogus")), "has codec kind 'bogus'; known: table, realtabformer"),
    "kind-a-list": (edit_codec(lambda c: c.update(kind=["realtabformer"])), "has codec kind ['realtabformer']"),
    "kind-table": (edit_codec(lambda c: c.update(kind="table")), "codec has unknown field 'position_ids'"),
    "schema-version-2": (edit_codec(lambda c: c.update(schema_version=2)), "schema_version 1; got kind"),
    "a-million-and-one-tokens": (edit_codec(lambda c: c["tokens"].extend(["x"] * (1_000_001 - len(c["tokens"])))),
                                 "the vocabulary must have between 1 and 1,000,000 tokens; got 1,000,001"),
    "65535-positions": (edit_codec(lambda c: c.update(processed_columns=["p"] * 65_535, position_ids=[[3]] * 65_535)),
                        "a row must have between 1 and 65,534 token positions (processed_columns); got 65,535"),
    "positions-times-tokens": (edit_codec(lambda c: c.update(
        tokens=c["tokens"] + ["x"] * 200_000, processed_columns=c["processed_columns"] * 60,
        position_ids=c["position_ids"] * 60)), "at most 100,000,000 are supported"),
    "an-id-outside-the-vocabulary": (edit_codec(lambda c: c["position_ids"][0].append(65)),
                                     "`position_ids` entry 0 holds 65; a token id must be an integer from 0 to 64"),
    "a-negative-id": (edit_codec(lambda c: c["position_ids"][2].__setitem__(0, -1)), "entry 2 holds -1"),
    "an-id-as-text": (edit_codec(lambda c: c["position_ids"][1].__setitem__(0, "7")), "entry 1 holds '7'"),
    "an-id-true": (edit_codec(lambda c: c["position_ids"][1].__setitem__(0, True)), "entry 1 holds True"),
    "a-position-with-no-ids": (edit_codec(lambda c: c["position_ids"].__setitem__(3, [])),
                               "entry 3 must be a list of 1 to 65 token ids; got 0 ids"),
    "one-position-too-few": (edit_codec(lambda c: c["position_ids"].pop()),
                             "position_ids lists 9 positions but processed_columns names 10"),
    "tokens-not-strings": (edit_codec(lambda c: c["tokens"].__setitem__(7, 7)),
                           "`tokens` must be a list of strings; entry 7 is 7"),
    "tokens-an-object": (edit_codec(lambda c: c.update(tokens={"0": "[UNK]"})), "`tokens` must be a list of strings"),
    "unknown-field": (edit_codec(lambda c: c.update(vocab={})), "codec has unknown field 'vocab'"),
    "missing-field": (edit_codec(lambda c: c.pop("columns")), "codec lacks field 'columns'"),
    "has-missing-yes": (column(2, has_missing="yes"), "codec column 2: `has_missing` must be true or false; got 'yes'"),
    "column-kind-bogus": (column(0, kind="date"), "codec column 'survived': `kind` must be one of numeric"),
    "column-dtype-bogus": (column(2, dtype="void"), "column 'age' has dtype 'void'"),
    "column-unknown-field": (column(1, width=3), "codec column 1 has unknown field 'width'"),
    "column-twice": (edit_codec(lambda c: c["columns"].append(dict(c["columns"][0]))), "names column 'survived' twice"),
    "ljust-10**9": (edit_codec(lambda c: c["columns"][2]["transform"].update(ljust=10**9)),
                    "codec column 'age': `transform`: `ljust` must be an integer between 1 and 400; got 1000000000"),
    "precision-text": (edit_codec(lambda c: c["columns"][2]["transform"].update(numeric_precision="4")),
                       "`numeric_precision` must be an integer between 0 and 400; got '4'"),
    "transform-of-a-category": (column(0, transform={"zfill": 2}), "`transform` must be null for a categorical"),
    "nparts-10**9": (edit_codec(lambda c: c["settings"].update(numeric_nparts=10**9)),
                     "codec `settings`: `numeric_nparts` must be an integer between 1 and 400"),
    "a-list": (write_codec(b"[1, 2]"), "a codec must be a JSON object; got list"),
    "not-json": (write_codec(b'{"kind": "realtabformer",\n  "tokens": [}'),
                 "is not a valid codec file (not JSON: Expecting value at line 2 column 14)"),
    "not-utf8": (write_codec(b'{"kind": "realtabf\xf6rmer"}'), "is not a valid codec file (not UTF-8 text)"),
}


@pytest.mark.parametrize("case", list(CODEC_CASES))
def test_an_edited_codec_of_an_imported_model(refused, tmp_path, imported_dir, case):
    damage, message = CODEC_CASES[case]
    model = Path(shutil.copytree(imported_dir, tmp_path / "model"))
    damage(model)
    err = refused(["sample", model, "--rows", "5"], tmp_path, message)
    assert "codec.json" in err


def test_a_realtabformer_config_whose_numbers_are_a_billion_characters_wide(refused, tmp_path):
    folder = copy_fixture(tmp_path)
    edit_config(folder, lambda c: c["col_transform_data"]["age"].update(ljust=10**9))
    refused(["import-rtf", folder, "--data", FIXTURE / "data.csv", "--out", tmp_path / "model"], tmp_path,
            "`ljust` must be an integer between 1 and 400; got 1000000000")


# ---------------------------------------------------------------- what is replaced, and with what

def test_overwrite_replaces_a_users_folder(tmp_path, capsys):
    from fuseprune.tabular import TabularGPT

    from .conftest import run

    mine = users_folder(tmp_path)
    code, _, err = run(capsys, ["import-rtf", copy_fixture(tmp_path), "--out", mine, "--overwrite"])
    assert code == 0, err
    assert not (mine / "thesis.tex").exists() and TabularGPT.load(mine).model.config.n_layer == 3
    theirs = users_folder(tmp_path, "theirs")
    code, _, err = run(capsys, ["export-rtf", mine, "--out", theirs, "--overwrite"])
    assert code == 0, err
    assert sorted(p.name for p in theirs.iterdir()) == [".fuseprune", "rtf_config.json", "rtf_model.pt"]


def test_a_second_import_or_export_replaces_fuseprunes_own_without_overwrite(tmp_path, capsys, imported_dir):
    from fuseprune.tabular import TabularGPT
    from fuseprune.tabular.realtabformer import import_realtabformer

    from .conftest import run

    source = copy_fixture(tmp_path, "saved")
    for _ in range(2):
        code, _, err = run(capsys, ["import-rtf", source, "--out", tmp_path / "model"])
        assert code == 0, err
        code, _, err = run(capsys, ["export-rtf", tmp_path / "model", "--out", tmp_path / "rtf"])
        assert code == 0, err
    small = TabularGPT.load(imported_dir)
    small.model.transformer.h = small.model.transformer.h[:2]  # a different model: the export really changes
    small.model.config.n_layer = 2
    small.save(tmp_path / "small")
    code, _, err = run(capsys, ["export-rtf", tmp_path / "small", "--out", tmp_path / "rtf", "--no-verify"])
    assert code == 0, err
    assert import_realtabformer(tmp_path / "rtf").model.config.n_layer == 2


def test_an_export_of_fuseprune_0_1_0_is_replaced_without_overwrite(tmp_path, capsys, imported_dir):
    """Exports written before the ``.fuseprune`` marker carried a ``fuseprune.json`` beside REaLTabFormer's files."""
    from .conftest import run

    old = copy_fixture(tmp_path, "old-export")
    (old / "fuseprune.json").write_text('{"written_by": "fuseprune 0.1.0", "format": "realtabformer 0.2.4"}')
    code, _, err = run(capsys, ["export-rtf", imported_dir, "--out", old])
    assert code == 0, err
    assert sorted(p.name for p in old.iterdir()) == [".fuseprune", "rtf_config.json", "rtf_model.pt"]


def test_sampling_an_imported_model_whose_number_parts_were_pulled_apart(refused, tmp_path, imported_dir):
    model = shutil.copytree(imported_dir, tmp_path / "model")
    codec = json.loads((model / "codec.json").read_text())
    for key in ("processed_columns", "position_ids"):  # age's last part after passengerClass
        codec[key][8], codec[key][9] = codec[key][9], codec[key][8]
    (model / "codec.json").write_text(json.dumps(codec))
    refused(["sample", model, "--rows", "5"], tmp_path,
            "is not a valid codec file: the token positions of column 'age' (2, 3, 4, 5, 6, 7, 9) are not "
            "consecutive; the vocabulary does not match.")
