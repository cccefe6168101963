"""Commands on a model trained from a CSV reread its table as it was read for training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fuseprune.cli import main

ROWS = 30


@pytest.fixture(scope="module")
def csv_model(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny model trained on a semicolon CSV with an id column dropped and a declared column."""
    folder = tmp_path_factory.mktemp("csv_model")
    lines = ["id;age;city;score"] + [f"{i + 1};{20 + i % 7};{['Oslo', 'Lima', 'Pune'][i % 3]};{(i % 9) * 0.5}"
                                     for i in range(ROWS)]
    data = folder / "people.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    argv = ["train", "--data", str(data), "--preset", "tiny", "--max-epochs", "1", "--out", str(folder / "model"),
            "--drop-column", "id", "--column-type", "age=categorical"]
    assert main(argv) == 0
    return data, folder / "model"


def score(capsys: pytest.CaptureFixture[str], model: Path, *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["score", str(model), "--signals", "weight_norm", "--rows", "8", "--json", *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_the_model_records_how_its_table_was_read(csv_model):
    _, model = csv_model
    data = json.loads((model / "fuseprune.json").read_text())["data"]
    assert data["read"] == {"delimiter": ";", "drop_columns": ["id"], "column_types": {"age": "categorical"}}
    assert data["kinds"] == {"age": "categorical", "city": "categorical", "score": "numerical"}
    assert len(data["sha256"]) == 64


def test_score_rereads_the_table_without_any_option(csv_model, capsys):
    # without the record, the id column would be refused and the file split by commas into one column
    code, output = score(capsys, csv_model[1])
    assert code == 0 and "weight_norm" in output


def test_an_option_given_replaces_only_its_own_record(csv_model, capsys):
    # the delimiter is given again; the dropped id and the declared age still come from the model
    code, output = score(capsys, csv_model[1], "--delimiter", "semicolon")
    assert code == 0 and "weight_norm" in output


def test_the_same_table_named_explicitly_is_read_as_recorded(csv_model, capsys):
    data, model = csv_model
    code, output = score(capsys, model, "--data", str(data))
    assert code == 0 and "weight_norm" in output


def test_another_table_is_read_with_only_the_options_given(csv_model, capsys, tmp_path):
    data, model = csv_model
    copy = tmp_path / "copy.csv"
    copy.write_text(data.read_text(), encoding="utf-8")
    code, output = score(capsys, model, "--data", str(copy))
    assert code == 2 and "identifier-like" in output
    code, output = score(capsys, model, "--data", str(copy), "--drop-column", "id", "--column-type", "age=categorical")
    assert code == 0 and "weight_norm" in output
