"""The grid's options and its append-only results store."""

from __future__ import annotations

import json

import pytest

from fuseprune.compare import GridConfig, ResultStore, comparable
from fuseprune.compare.store import append_line, read_lines
from fuseprune.errors import ConfigError, PathNotFoundError, UnknownNameError
from fuseprune.pruning import list_strategies


def grid(**changes):
    return GridConfig(**{"datasets": ("iris",), "strategies": ("weight_norm",), "preset": "tiny", **changes})


def test_all_means_every_strategy_once_but_exhaustive():
    """exhaustive needs a number of layers to remove: it joins a grid only by name."""
    config = grid(strategies=("random", "all"))
    stepwise = [name for name in list_strategies() if name != "exhaustive"]
    assert config.strategies[0] == "random" and sorted(config.strategies) == stepwise
    assert len(config.cells()) == len(stepwise)


def test_unknown_data_set_or_strategy_lists_the_known_ones():
    with pytest.raises(UnknownNameError, match="unknown data set 'nope'; known: birthwt, .*wine"):
        grid(datasets=("iris", "nope"))
    with pytest.raises(UnknownNameError, match="unknown strategy 'foo'; known: all, ablation, .*fusion-rf"):
        grid(strategies=("foo",))


def test_a_folder_of_another_grid_is_refused_naming_the_difference(tmp_path):
    ResultStore(tmp_path / "out", grid(seeds=(0, 1)))
    before = sorted(p.name for p in (tmp_path / "out").iterdir())
    with pytest.raises(ConfigError, match=r"different grid \(seeds: \[0, 1\] there, \[0\] here\)"):
        ResultStore(tmp_path / "out", grid(seeds=(0,)))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == before


def test_a_grid_with_more_strategies_or_data_sets_extends_the_folder_and_fewer_or_other_ones_are_refused(tmp_path):
    ResultStore(tmp_path / "out", grid(strategies=("weight_norm", "random")))
    line = {"dataset": "iris", "seed": 0, "strategy": "random", "step": 0}
    append_line(tmp_path / "out" / "results.jsonl", line)
    extended = ResultStore(tmp_path / "out", grid(strategies=("weight_norm", "random", "tail")))
    assert extended.config.strategies == ("weight_norm", "random", "tail")
    assert json.loads((tmp_path / "out" / "grid.json").read_text())["grid"]["strategies"][-1] == "tail"
    assert list(read_lines(tmp_path / "out" / "results.jsonl")) == [line]  # the finished steps stay
    with pytest.raises(ConfigError, match="different grid"):
        ResultStore(tmp_path / "out", grid(strategies=("weight_norm",)))  # fewer: would orphan finished cells
    with pytest.raises(ConfigError, match="different grid"):
        ResultStore(tmp_path / "out", grid(strategies=("weight_norm", "random", "tail", "head"), seeds=(1,)))
    more = ResultStore(tmp_path / "out", grid(datasets=("iris", "wine"), strategies=("weight_norm", "random", "tail")))
    assert more.config.datasets == ("iris", "wine") and list(read_lines(more.path)) == [line]
    with pytest.raises(ConfigError, match="different grid"):
        ResultStore(tmp_path / "out", grid(datasets=("wine",), strategies=("weight_norm", "random", "tail")))


def test_a_folder_of_another_version_is_refused(tmp_path):
    ResultStore(tmp_path / "out", grid())
    path = tmp_path / "out" / "grid.json"
    stored = json.loads(path.read_text())
    path.write_text(json.dumps({**stored, "fuseprune": "0.0.1"}))
    with pytest.raises(ConfigError, match='fuseprune: "0.0.1" there'):
        ResultStore(tmp_path / "out", grid())


def test_a_non_empty_folder_that_is_not_a_store_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not a comparison results folder"):
        ResultStore(tmp_path, grid())
    with pytest.raises(PathNotFoundError, match="no grid.json"):
        ResultStore(tmp_path / "missing")


def test_a_torn_last_line_is_skipped_and_the_next_record_starts_a_new_line(tmp_path):
    path = tmp_path / "results.jsonl"
    append_line(path, {"step": 0})
    with open(path, "a") as handle:
        handle.write('{"step": 1, "sta')  # a writer killed mid-line
    append_line(path, {"step": 2})
    assert list(read_lines(path)) == [{"step": 0}, {"step": 2}]


def test_comparable_drops_timings_and_sorts():
    a = {"dataset": "d", "seed": 0, "strategy": "s", "step": 1, "rank_seconds": 1.0,
         "state": {"quality": 0.5, "rows_per_second": 10.0, "eval_seconds": 3.0}}
    b = {**a, "step": 0, "rank_seconds": 9.0, "state": {**a["state"], "rows_per_second": 99.0}}
    assert comparable([a, b]) == [{"dataset": "d", "seed": 0, "strategy": "s", "step": s, "state": {"quality": 0.5}}
                                  for s in (0, 1)]
