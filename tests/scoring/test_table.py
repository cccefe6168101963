"""ScoreTable: frames, ranks, CSV/JSON round trips, atomic writes."""

from __future__ import annotations

import json

import pytest

from fuseprune.errors import ConfigError, DataError, PathNotFoundError, UnknownNameError
from fuseprune.scoring import LayerScores, ScoreTable


@pytest.fixture
def table() -> ScoreTable:
    return ScoreTable(
        (
            LayerScores("act_norm", "activation", "maximize", (1.0, 3.0, 2.0)),
            LayerScores("mi_redundancy", "information", "minimize", (0.5, 0.25, 1.0)),
            LayerScores("random", "reference", "maximize", (0.1, 0.2, 0.3), reference=True),
        ),
        model_type="gpt2",
        layer_path="transformer.h",
        seed=4,
    )


def test_frames_and_ranks(table):
    assert table.raw_frame().loc[1, "act_norm"] == 3.0
    assert table.keep_frame()["act_norm"].tolist() == [0.0, 1.0, 0.5]
    # minimize: raw (0.5, 0.25, 1.0) -> oriented (-0.5, -0.25, -1) -> keep (2/3, 1, 0)
    assert table.keep_frame()["mi_redundancy"].tolist() == pytest.approx([2 / 3, 1.0, 0.0])
    assert table.rank_frame()["act_norm"].tolist() == [3, 1, 2]
    assert table.rank_frame().index.name == "layer"
    columns = ["layer", "signal", "family", "goal", "reference", "raw", "keep", "rank"]
    assert list(table.to_frame().columns[:8]) == columns
    assert len(table.to_frame()) == 9


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_round_trip(table, tmp_path, fmt):
    path = tmp_path / f"scores.{fmt}"
    getattr(table, f"to_{fmt}")(path)
    again = getattr(ScoreTable, f"from_{fmt}")(path)
    assert again == table
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind


def test_write_creates_missing_folders(table, tmp_path):
    assert ScoreTable.from_csv(table.to_csv(tmp_path / "new" / "scores.csv")) == table


def test_write_is_atomic(table, tmp_path, monkeypatch):
    path = table.to_json(tmp_path / "scores.json")  # a file fuseprune wrote, so it may be replaced
    old = path.read_text()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("fuseprune.files.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        table.to_csv(path)
    assert path.read_text() == old and [p.name for p in tmp_path.iterdir()] == ["scores.json"]


def test_errors(table, tmp_path):
    with pytest.raises(UnknownNameError, match="act_norm, mi_redundancy, random"):
        table["nope"]
    with pytest.raises(PathNotFoundError):
        ScoreTable.from_json(tmp_path / "missing.json")
    data = table.to_dict()
    data["extra"] = 1
    with pytest.raises(ConfigError, match="extra"):
        ScoreTable.from_dict(data)
    (tmp_path / "v9.json").write_text(json.dumps({**table.to_dict(), "schema_version": 9}))
    with pytest.raises(ConfigError, match="schema_version"):
        ScoreTable.from_json(tmp_path / "v9.json")
    one, two = (
        LayerScores("a", "activation", "maximize", (1.0,)),
        LayerScores("b", "activation", "maximize", (1.0, 2.0)),
    )
    with pytest.raises(DataError, match="same number of layers"):
        ScoreTable((one, two))


def test_rich_rendering(table):
    from rich.console import Console

    console = Console(record=True, width=120)
    console.print(table)
    assert "mi_redundancy" in console.export_text()
