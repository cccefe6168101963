"""Sampling at scale: chunks streamed to CSV or Parquet, the same rows however split, nothing partial left."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fuseprune.files import temporary_path
from fuseprune.tabular import TableCodec, build_model, sample_rows
from fuseprune.tabular.model import TabularGPT
from fuseprune.tabular.stream import ScaleConfig, chunks_of, sample_to_file

ROWS = 300


class StopAfter:
    """A progress sink that interrupts sampling after ``rows`` rows, like Ctrl-C would."""

    def __init__(self, rows: int) -> None:
        self.rows, self.seen, self.info = rows, 0, []

    def start(self, description: str, total: int | None) -> None:
        pass

    def advance(self, n: int = 1, **info: object) -> None:
        self.seen += n
        self.info.append(info)
        if self.seen >= self.rows:
            raise KeyboardInterrupt

    def stop(self) -> None:
        pass


@pytest.fixture(scope="module")
def mixed_bundle(tmp_path_factory) -> tuple[TabularGPT, Path]:
    """An untrained tiny model over a table with every dtype the codec restores."""
    rng = np.random.default_rng(0)
    n = 40
    frame = pd.DataFrame({
        "score": pd.array(rng.integers(1, 6, n), dtype="Int64"),
        "weight": np.round(rng.uniform(-2, 90, n), 1),
        "flag": rng.random(n) < 0.5,
        "size": pd.Categorical(rng.choice(["S", "M", "L"], n), categories=["S", "M", "L"], ordered=True),
        "name": rng.choice(["ann", "bob", "cy"], n).astype(object),
    })
    frame.loc[3, "score"] = pd.NA
    frame.loc[5, "weight"] = np.nan
    codec = TableCodec.fit(frame, max_values=8)
    bundle = TabularGPT(build_model(codec, "tiny", seed=0), codec)
    return bundle, bundle.save(tmp_path_factory.mktemp("mixed") / "model")


def test_chunks_cover_the_rows_in_order():
    assert [(c.index, c.first_row, c.rows) for c in chunks_of(10, 4)] == [(0, 0, 4), (1, 4, 4), (2, 8, 2)]


def test_parquet_and_csv_round_trip_the_rows_and_dtypes(mixed_bundle, tmp_path):
    bundle, _ = mixed_bundle
    expected = sample_rows(bundle, ROWS, seed=3)
    assert expected["score"].isna().any() and expected["weight"].isna().any()
    config = ScaleConfig(rows=ROWS, seed=3, chunk_rows=64)
    result = sample_to_file(bundle, tmp_path / "rows.parquet", config)
    assert result.rows == ROWS and result.path == tmp_path / "rows.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "rows.parquet"), expected)  # dtypes included
    sample_to_file(bundle, tmp_path / "rows.csv", config)
    back = pd.read_csv(tmp_path / "rows.csv", dtype=expected.dtypes.to_dict())
    pd.testing.assert_frame_equal(back, expected)
    pd.testing.assert_frame_equal(result.head, expected.head(10))
    assert sorted(os.listdir(tmp_path)) == ["rows.csv", "rows.parquet"]  # no temporaries left


@pytest.mark.slow
def test_one_and_two_jobs_write_the_same_rows(tiny_bundle, tiny_model_dir, tmp_path):
    one = sample_to_file(tiny_model_dir, tmp_path / "one.parquet", ScaleConfig(rows=ROWS, seed=7, chunk_rows=37))
    two = sample_to_file(tiny_model_dir, tmp_path / "two.parquet",
                         ScaleConfig(rows=ROWS, seed=7, chunk_rows=50, jobs=2, batch_size=16))
    assert one.rows == two.rows == ROWS
    rows = pd.read_parquet(tmp_path / "one.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "two.parquet"), rows)
    pd.testing.assert_frame_equal(rows, sample_rows(tiny_bundle, ROWS, seed=7))
    assert not rows.equals(sample_rows(tiny_bundle, ROWS, seed=8))


@pytest.mark.slow
def test_ray_tasks_write_the_same_rows(tiny_bundle, tiny_model_dir, tmp_path):
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'fuseprune[ray]'")
    config = ScaleConfig(rows=ROWS, seed=7, chunk_rows=64, jobs=2, backend="ray")
    sample_to_file(tiny_model_dir, tmp_path / "ray.parquet", config)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "ray.parquet"), sample_rows(tiny_bundle, ROWS, seed=7))


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("name", ["rows.csv", "rows.parquet"])
def test_an_interrupted_write_leaves_no_file(tiny_bundle, tmp_path, name, monkeypatch):
    monkeypatch.setattr("fuseprune.tabular.writers.ROW_GROUP_ROWS", 40)  # a Parquet row group is already out
    progress = StopAfter(100)
    with pytest.raises(KeyboardInterrupt):
        sample_to_file(tiny_bundle, tmp_path / name, ScaleConfig(rows=ROWS, chunk_rows=50), progress)
    gc.collect()  # nothing left to flush into a closed file
    assert progress.seen == 100 and progress.info[0]["rows_per_s"] > 0
    assert os.listdir(tmp_path) == []


def test_a_dead_writers_temporary_is_removed_by_the_next_run(tiny_bundle, tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(finished.stdout)
    host = temporary_path(tmp_path / "x").name.split(".")[2].split("-")[0]  # this machine's tag
    stale = tmp_path / f".rows.csv.{host}-{dead}.0badc0de.tmp"
    alive = tmp_path / f".rows.csv.{host}-{os.getppid()}.0badc0de.tmp"  # a live process may still be writing it
    other = tmp_path / f".other.csv.{host}-{dead}.0badc0de.tmp"
    for path in (stale, alive, other):
        path.write_text("partial")
    sample_to_file(tiny_bundle, tmp_path / "rows.csv", ScaleConfig(rows=5))
    assert sorted(os.listdir(tmp_path)) == sorted(["rows.csv", alive.name, other.name])


@pytest.mark.slow
def test_sigterm_removes_the_temporary(tiny_model_dir, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-c",
        "import sys; from fuseprune.cli import main; sys.exit(main())",
        "sample",
        str(tiny_model_dir),
        "--rows",
        "100000000",
        "--chunk-rows",
        "64",
        "--out",
        str(tmp_path / "rows.csv"),
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".rows.csv.*.tmp")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert list(tmp_path.glob(".rows.csv.*.tmp")), process.communicate()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143 and "Traceback" not in err
    assert os.listdir(tmp_path) == []
