"""Hostile catalogue, CSV input: files that would be misread are refused in one line and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from fuseprune.cli import main

ROWS = 30
CITIES = ["Oslo", "Lima", "Pune"]


def csv_text(delimiter: str = ",", rows: int = ROWS, ids: bool = False) -> str:
    """age (20..26), city, smoker (yes/no), score; with ``ids`` a first column ``id`` = 1..rows."""
    header = (["id"] if ids else []) + ["age", "city", "smoker", "score"]
    lines = [delimiter.join(header)]
    for i in range(rows):
        values = [str(20 + i % 7), CITIES[i % 3], ["yes", "no"][i % 2], f"{(i % 9) * 0.5}"]
        lines.append(delimiter.join(([str(i + 1)] if ids else []) + values))
    return "\n".join(lines) + "\n"


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def train_argv(data: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "--data", str(data), "--preset", "tiny", "--max-epochs", "1", "--out", str(out), *extra]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A working folder with one good file in it (so "unchanged" means something)."""
    write(tmp_path / "notes.txt", "keep me\n")
    return tmp_path


# --- files that would be misread -------------------------------------------------------------------


def test_a_file_two_delimiters_fit_equally(refused, root):
    text = "a,b;c\n" + "".join(f"{i % 3},{i % 4};{i % 5}\n" for i in range(ROWS))
    data = write(root / "both.csv", text)
    refused(train_argv(data, root / "model"), root, "--delimiter")


def test_a_row_with_an_extra_field(refused, root):
    lines = csv_text().splitlines()
    lines[12] += ",surplus"
    data = write(root / "ragged.csv", "\n".join(lines) + "\n")
    refused(train_argv(data, root / "model"), root, "line 13 has 5 fields but the header has 4")


def test_a_row_with_a_missing_field(refused, root):
    lines = csv_text(";").splitlines()
    lines[20] = "21;Oslo;yes"
    data = write(root / "short.csv", "\n".join(lines) + "\n")
    refused(train_argv(data, root / "model"), root, "line 21 has 3 fields but the header has 4")


def test_every_row_one_field_longer_than_the_header(refused, root):
    # pandas would have made the first column the index and shifted every name by one
    text = "age,city\n" + "".join(f"{i},{20 + i % 7},{CITIES[i % 3]}\n" for i in range(ROWS))
    data = write(root / "shifted.csv", text)
    refused(train_argv(data, root / "model"), root, "line 2 has 3 fields but the header has 2")


def test_an_identifier_column(refused, root):
    data = write(root / "ids.csv", csv_text(ids=True))
    refused(train_argv(data, root / "model"), root, "--drop-column id")


def test_a_name_column_in_a_run(refused, root):
    lines = csv_text().splitlines()
    text = "\n".join([lines[0] + ",name"] + [line + f",Person {i}" for i, line in enumerate(lines[1:])]) + "\n"
    data = write(root / "names.csv", text)
    refused(["run", "--data", str(data), "--preset", "tiny", "--out", str(root / "run")], root, "'name'")


def test_text_declared_numerical(refused, root):
    data = write(root / "people.csv", csv_text())
    refused(train_argv(data, root / "model", "--column-type", "city=numerical"), root, "'Oslo'")


def test_many_values_declared_boolean(refused, root):
    data = write(root / "people.csv", csv_text())
    refused(train_argv(data, root / "model", "--column-type", "age=boolean"), root, "holds 7 distinct values")


def test_two_labels_that_are_not_true_or_false_declared_boolean(refused, root):
    text = "kind,x\n" + "".join(f"{['cat', 'dog'][i % 2]},{i % 4}\n" for i in range(ROWS))
    data = write(root / "pets.csv", text)
    refused(train_argv(data, root / "model", "--column-type", "kind=boolean"), root, "not true/false")


def test_dropping_a_column_that_is_not_there(refused, root):
    data = write(root / "people.csv", csv_text())
    refused(train_argv(data, root / "model", "--drop-column", "ID"), root, "'ID'")


def test_a_delimiter_that_is_not_one_character(refused, root):
    data = write(root / "people.csv", csv_text())
    refused(train_argv(data, root / "model", "--delimiter", ";;"), root, "--delimiter must be one character")


def test_a_delimiter_for_a_bundled_data_set(refused, root):
    refused(["train", "--data", "iris", "--delimiter", ";", "--out", str(root / "model")], root, "bundled data set")


def test_the_wrong_delimiter_given(refused, root):
    # a comma file read with ";" is one column, and its rows are ids: refused, not learned
    data = write(root / "people.csv", csv_text(ids=True))
    refused(train_argv(data, root / "model", "--delimiter", ";"), root, "identifier-like")


# --- files that are not tables ----------------------------------------------------------------------


def test_an_empty_file(refused, root):
    refused(train_argv(write(root / "empty.csv", ""), root / "model"), root, "is empty")


def test_a_header_and_no_rows(refused, root):
    refused(train_argv(write(root / "header.csv", "age,city\n"), root / "model"), root, "0 rows")


def test_binary_garbage(refused, root):
    data = write(root / "garbage.csv", bytes(range(256)) * 64)
    refused(train_argv(data, root / "model"), root, "is not UTF-8 text")


def test_text_with_nul_bytes(refused, root):
    data = write(root / "nul.csv", csv_text().replace("Lima", "Li\x00ma").encode("utf-8"))
    refused(train_argv(data, root / "model"), root, "NUL bytes")


def test_text_that_is_not_utf8(refused, root):
    data = write(root / "latin1.csv", csv_text().replace("Lima", "Bogot\u00e1").encode("latin-1"))
    refused(train_argv(data, root / "model"), root, "not UTF-8")


def test_a_directory_passed_as_a_csv(refused, root):
    (root / "folder.csv").mkdir()
    refused(train_argv(root / "folder.csv", root / "model"), root, "is a directory")


def test_a_bad_table_in_a_comparison_is_refused_before_the_results_folder_exists(refused, root):
    data = write(root / "ids.csv", csv_text(ids=True))
    argv = ["compare", "--datasets", f"iris,{data}", "--strategies", "random", "--preset", "tiny",
            "--out", str(root / "cmp"), "--teachers", str(root / "teachers")]
    refused(argv, root, "identifier-like")


def test_a_bad_table_in_a_bank_build_is_refused_before_any_teacher(refused, root):
    data = write(root / "ragged.csv", csv_text() + "1,2\n")
    argv = ["fuse", "build-bank", "--datasets", f"iris,{data}", "--preset", "tiny", "--out", str(root / "bank.csv"),
            "--teachers", str(root / "teachers")]
    refused(argv, root, "line 32")


# --- a model's table changed under it ---------------------------------------------------------------


@pytest.fixture(scope="module")
def csv_model(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny model trained on a semicolon CSV with an id column dropped and a declared column."""
    folder = tmp_path_factory.mktemp("csv_model")
    data = write(folder / "people.csv", csv_text(";", ids=True))
    code = main(train_argv(data, folder / "model", "--drop-column", "id", "--column-type", "age=categorical"))
    assert code == 0
    return data, folder / "model"


def test_a_model_whose_csv_rows_changed_is_refused(refused, csv_model, tmp_path):
    data, model = csv_model
    original = data.read_text()
    try:
        write(data, original.replace("Oslo", "Rome", 1))
        refused(["score", str(model), "--signals", "weight_norm", "--rows", "8"], model.parent,
                "is not what the model was trained on")
    finally:
        write(data, original)
