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
