"""The teacher cache reuses a model only for a table of identical content (whatever its path), split and training."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from fuseprune.data import load_table, table_sha256
from fuseprune.errors import DataError
from fuseprune.tabular import TabularGPT, TrainConfig, split_of
from fuseprune.tabular.cache import load_or_train

CONFIG = TrainConfig(preset="tiny", max_epochs=1, seed=0)
ROWS = 40


def people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [20 + i % 7 for i in range(ROWS)],
            "city": [["Oslo", "Lima", "Pune"][i % 3] for i in range(ROWS)],
            "score": [round(i * 0.25, 2) for i in range(ROWS)],
        }
    )


def write(path: Path, frame: pd.DataFrame, sep: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, sep=sep)
    return path


# --- the content hash ------------------------------------------------------------------------------


def test_the_hash_ignores_the_file_its_name_and_its_delimiter(tmp_path):
    a = load_table(write(tmp_path / "a.csv", people()))
    b = load_table(write(tmp_path / "elsewhere" / "b.csv", people(), sep=";"))
    assert a.sha256 == b.sha256 and len(a.sha256) == 64


def test_one_changed_cell_changes_the_hash(tmp_path):
    changed = people()
    changed.loc[17, "score"] = 99.0
    assert (
        load_table(write(tmp_path / "a.csv", people())).sha256 != load_table(write(tmp_path / "b.csv", changed)).sha256
    )


def test_column_order_kinds_and_names_change_the_hash():
    frame = people()
    kinds = {"age": "numerical", "city": "categorical", "score": "numerical"}
    base = table_sha256(frame, kinds)
    assert table_sha256(frame[["city", "age", "score"]], kinds) != base
    assert table_sha256(frame, {**kinds, "age": "categorical"}) != base
    assert table_sha256(frame.rename(columns={"age": "years"}), {**kinds, "years": "numerical"}) != base
    # the row order is content too: a split depends on it
    assert table_sha256(frame.iloc[::-1].reset_index(drop=True), kinds) != base
    assert table_sha256(frame.copy(), dict(kinds)) == base


# --- reuse ------------------------------------------------------------------------------------------


@pytest.fixture
def cached(tmp_path):
    """A tiny model trained on people.csv into a cache folder."""
    csv = write(tmp_path / "people.csv", people())
    folder = tmp_path / "cache" / "teacher"
    bundle, reused = load_or_train(load_table(csv), CONFIG, folder)
    assert not reused
    return csv, folder, bundle


def test_the_model_records_the_hash_and_how_the_table_was_read(cached):
    csv, folder, _ = cached
    data = json.loads((folder / "fuseprune.json").read_text())["data"]
    assert data["sha256"] == load_table(csv).sha256
    assert data["read"] == {"delimiter": ",", "drop_columns": [], "column_types": {}}


def test_the_same_content_is_reused(cached):
    csv, folder, _ = cached
    _, reused = load_or_train(load_table(csv), CONFIG, folder)
    assert reused


def test_one_changed_cell_retrains_and_says_why(cached, caplog):
    csv, folder, _ = cached
    changed = people()
    changed.loc[3, "city"] = "Rome"
    write(csv, changed)
    with caplog.at_level(logging.WARNING, logger="fuseprune.tabular.cache"):
        bundle, reused = load_or_train(load_table(csv), CONFIG, folder)
    assert not reused
    assert "differs from the table it was trained on" in caplog.text
    assert bundle.info["data"]["sha256"] == load_table(csv).sha256
    # and the new model is the one saved: the next call reuses it
    assert load_or_train(load_table(csv), CONFIG, folder)[1]


def test_the_same_content_under_another_path_and_delimiter_is_reused(cached, tmp_path):
    _, folder, _ = cached
    moved = write(tmp_path / "moved" / "renamed.csv", people(), sep="\t")
    _, reused = load_or_train(load_table(moved), CONFIG, folder)
    assert reused


def test_another_split_or_training_retrains(cached):
    csv, folder, _ = cached
    assert not load_or_train(load_table(csv), CONFIG, folder, split_seed=1)[1]
    assert not load_or_train(load_table(csv), TrainConfig(preset="tiny", max_epochs=1, seed=1), folder)[1]


def test_a_model_without_a_content_hash_is_retrained(cached, caplog):
    csv, folder, _ = cached
    info_path = folder / "fuseprune.json"
    info = json.loads(info_path.read_text())
    del info["data"]["sha256"]
    info_path.write_text(json.dumps(info))
    (folder / ".fuseprune").unlink()  # as fuseprune 0.1.0 wrote it: no marker, no content hash
    with caplog.at_level(logging.WARNING, logger="fuseprune.tabular.cache"):
        assert not load_or_train(load_table(csv), CONFIG, folder)[1]
    assert "does not record a hash" in caplog.text


def test_a_model_refuses_its_own_source_once_the_rows_changed(cached):
    csv, _, bundle = cached
    train, _ = split_of(bundle, load_table(csv))
    assert len(train) == 32
    changed = people()
    changed.loc[0, "age"] = 26
    write(csv, changed)
    with pytest.raises(DataError) as exc:
        split_of(bundle, load_table(csv))
    assert "is not what the model was trained on" in str(exc.value) and "\n" not in str(exc.value)


def test_a_reloaded_model_splits_another_table_as_told(cached, tmp_path):
    _, _, bundle = cached
    other = people()
    other.loc[0, "age"] = 26
    loaded = TabularGPT.load(bundle.save(tmp_path / "saved"))
    train, holdout = split_of(loaded, load_table(write(tmp_path / "other.csv", other)))
    assert (len(train), len(holdout)) == (32, 8)
