"""Every line of results.jsonl is checked against its grid.

Wrong shapes, foreign steps and conflicting repeats are refused.
"""

from __future__ import annotations

import copy
import json
import logging

import pytest

from fuseprune.compare import GridConfig, ResultStore
from fuseprune.compare.records import check_record
from fuseprune.errors import DataError

GRID = GridConfig(datasets=("iris",), strategies=("random",), seeds=(0,), preset="tiny")  # 2-layer teachers
STEP0 = {"dataset": "iris", "seed": 0, "strategy": "random", "step": 0, "layers": 2, "removed": [], "kept": [0, 1],
         "keep": [0.2, 0.7], "next": 0, "rank_seconds": 0.1,
         "state": {"quality": 0.9, "holdout_nll": 10.0, "diagnostic": 1.0, "parameters": 100, "bytes_on_disk": 1000,
                   "rows_per_second": 50.0, "oracle_impact": [0.1, 0.5]}}
STEP1 = {**STEP0, "step": 1, "layers": 1, "removed": [0], "kept": [1], "keep": None, "next": None, "rank_seconds": 0.0,
         "state": {"quality": 0.8, "holdout_nll": 12.0, "diagnostic": 1.0, "parameters": 80, "bytes_on_disk": 800,
                   "rows_per_second": 60.0}}


@pytest.fixture
def store(tmp_path):
    """A results folder of GRID holding both steps of its one cell."""
    store = ResultStore(tmp_path / "results", GRID)
    store.append(STEP0)
    store.append(STEP1)
    return store


def add_line(store, line: bytes) -> None:
    with open(store.path, "ab") as handle:
        handle.write(line + b"\n")


def test_a_sound_store_reads_back_in_order(store):
    assert store.records() == [STEP0, STEP1]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"[1, 2]", "line 3: a record must be a JSON object; got list"),
        (b'"text"', "line 3: a record must be a JSON object; got str"),
        (b"caf\xe9", "line 3 is not UTF-8 text"),
        (b"hello", "line 3 is not a JSON record"),
        (json.dumps({**STEP1, "step": 99}).encode(), "line 3: `step` must be between 0 and 1 for the grid's 2-layer"),
        (json.dumps({**STEP1, "seed": 5}).encode(), "line 3: cell (iris, 5, random) is not part of the grid"),
        (json.dumps({**STEP1, "strategy": "oracle"}).encode(), "cell (iris, 0, oracle) is not part of the grid"),
        (json.dumps({k: v for k, v in STEP1.items() if k != "state"}).encode(), "line 3: the record lacks state"),
        (json.dumps({**STEP1, "step": "1"}).encode(), "line 3: `step` must be an integer; got \"1\""),
        (json.dumps({**STEP1, "removed": [1]}).encode(), "`kept` and `layers` must be the layers not removed"),
        (json.dumps({**STEP0, "next": 7}).encode(), "`next` must be one of the kept layers; got 7"),
        (json.dumps({**STEP0, "keep": [0.5]}).encode(), "`keep` must hold one score per kept layer (2); got 1"),
        (json.dumps({**STEP1, "state": {**STEP1["state"], "quality": "high"}}).encode(),
         "state `quality` must be a number or null"),
        (json.dumps({**STEP0, "state": {**STEP0["state"], "oracle_impact": [1.0]}}).encode(),
         "the state of step 0 must hold `oracle_impact`, one number per layer (2)"),
    ],
    ids=["list", "string", "latin1", "not-json", "step-99", "foreign-seed", "foreign-strategy", "no-state",
         "step-text", "removed-kept", "next", "keep-length", "quality-text", "oracle"],
)
def test_a_bad_line_is_refused_naming_file_and_line(store, line, message):
    add_line(store, line)
    with pytest.raises(DataError) as exc:
        store.records()
    assert message in str(exc.value) and "results.jsonl" in str(exc.value) and "\n" not in str(exc.value)


def test_an_identical_repeat_is_used_once_with_a_warning(store, caplog):
    add_line(store, json.dumps({**STEP1, "rank_seconds": 9.0}).encode())  # timings may differ
    with caplog.at_level(logging.WARNING, logger="fuseprune.compare.records"):
        assert store.records() == [STEP0, STEP1]
    assert "line 3 repeats line 2" in caplog.text


def test_a_different_repeat_is_refused(store):
    other = copy.deepcopy(STEP1)
    other["state"]["quality"] = 0.99
    add_line(store, json.dumps(other).encode())
    with pytest.raises(DataError, match="lines 2 and 3 hold different results for step 1 of cell iris/0/random"):
        store.records()


def test_a_torn_last_line_is_still_skipped(store):
    add_line(store, json.dumps(STEP1).encode()[:40])
    assert store.records() == [STEP0, STEP1]


@pytest.mark.parametrize("change", [{"format": 2}, {"fuseprune": 1}, {"format": None}])
def test_a_store_of_an_unknown_format_is_refused(store, change):
    path = store.folder / "grid.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}))
    with pytest.raises(DataError, match="this fuseprune reads format 1 only"):
        ResultStore(store.folder)


def test_check_record_accepts_both_steps():
    assert check_record(STEP0, GRID, 2) is None and check_record(STEP1, GRID, 2) is None
