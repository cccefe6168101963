"""Running real (tiny) grids: every step recorded, kill and resume, Ray against local, bad addresses."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fuseprune.cli import main
from fuseprune.compare import GridConfig, ResultStore, comparable, run_grid
from fuseprune.compare.cell import Task, execute
from fuseprune.compare.grid import Cell
from fuseprune.errors import ConfigError
from fuseprune.ray_cluster import check_reachable

pytestmark = pytest.mark.slow

STRATEGIES = ("weight_norm", "random", "block_influence", "taylor", "fusion-rf", "ablation")
CONFIG = GridConfig(datasets=("iris",), strategies=STRATEGIES, seeds=(0,), preset="tiny", speed_rows=32,
                    calibration_rows=64)
CLI_ARGS = ["compare", "--datasets", "iris", "--strategies", ",".join(STRATEGIES), "--preset", "tiny",
            "--calibration-rows", "64", "--speed-rows", "32"]


@pytest.fixture(scope="module")
def teachers(tmp_path_factory):
    """The tiny iris teacher, trained once into a teacher cache the grids share."""
    folder = tmp_path_factory.mktemp("teachers")
    execute(Task("teacher", CONFIG.to_dict(), Cell("iris", 0, ""), str(folder)))
    return folder


@pytest.fixture(scope="module")
def uninterrupted(teachers, tmp_path_factory):
    """The whole grid, run once without interruption on the local backend with two workers."""
    out = tmp_path_factory.mktemp("grids") / "whole"
    summary = run_grid(CONFIG, out, jobs=2, teachers=teachers)
    return summary, ResultStore(out).records()


def test_every_cell_records_every_step_from_the_teacher_to_one_layer(uninterrupted):
    summary, records = uninterrupted
    assert summary.cells == len(STRATEGIES) and summary.skipped == 0 and summary.steps_computed == 2 * len(STRATEGIES)
    for strategy in STRATEGIES:
        steps = sorted((r for r in records if r["strategy"] == strategy), key=lambda r: r["step"])
        assert [r["layers"] for r in steps] == [2, 1]
        assert steps[1]["removed"] == [steps[0]["next"]] and steps[1]["next"] is None
        assert steps[0]["state"]["parameters"] > steps[1]["state"]["parameters"]
        assert len(steps[0]["state"]["oracle_impact"]) == 2
    # the intact teacher is the same model state for every strategy: measured identically
    assert len({json.dumps(r["state"]["quality"]) for r in records if r["step"] == 0}) == 1


def test_a_finished_grid_is_not_run_again(uninterrupted, teachers):
    summary, _ = uninterrupted
    again = run_grid(CONFIG, summary.out, jobs=2, teachers=teachers)
    assert again.skipped == len(STRATEGIES) and again.steps_computed == 0


def _worker_of(pid: int) -> int | None:
    """The pid of a multiprocessing worker (spawn_main) below process ``pid``, if one is running."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == pid and b"spawn_main" in command:
            return int(entry.name)
    return None


def test_killing_a_worker_mid_grid_loses_nothing_and_the_rerun_computes_only_the_rest(
        uninterrupted, teachers, tmp_path):
    out = tmp_path / "killed"
    command = [
        str(Path(sys.executable).with_name("fuseprune")),
        *CLI_ARGS,
        "--out",
        str(out),
        "--teachers",
        str(teachers),
        "--jobs",
        "1",
        "--json",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    results = out / "results.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if results.is_file() and len(results.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    worker = _worker_of(process.pid)
    assert worker is not None, "the grid finished or never started a worker"
    os.kill(worker, signal.SIGKILL)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2 and "a worker process died" in stderr and "run the same command again" in stderr
    before = ResultStore(out).records()
    assert 3 <= len(before) < 2 * len(STRATEGIES)

    summary = run_grid(CONFIG, out, jobs=1, teachers=teachers)
    assert summary.steps_computed == 2 * len(STRATEGIES) - len(before)
    assert comparable(ResultStore(out).records()) == comparable(uninterrupted[1])


def test_ray_backend_gives_the_local_backends_results(uninterrupted, teachers, tmp_path):
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'fuseprune[ray]'")
    run_grid(CONFIG, tmp_path / "ray", backend="ray", jobs=2, teachers=teachers)
    assert comparable(ResultStore(tmp_path / "ray").records()) == comparable(uninterrupted[1])


def test_distill_measures_each_pruned_step_after_healing(teachers, tmp_path):
    config = GridConfig(datasets=("iris",), strategies=("weight_norm",), seeds=(0,), preset="tiny", speed_rows=32,
                        calibration_rows=64, distill=True, distill_epochs=1)
    run_grid(config, tmp_path / "distilled", teachers=teachers)
    steps = {r["step"]: r["state"] for r in ResultStore(tmp_path / "distilled").records()}
    assert "distilled" not in steps[0]
    healed = steps[1]["distilled"]
    assert healed["holdout_nll"] < steps[1]["holdout_nll"] and 0 < healed["quality"] <= 1


def test_an_unreachable_ray_address_fails_fast_and_writes_nothing(tmp_path, capsys):
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'fuseprune[ray]'")
    start = time.monotonic()
    code = main([*CLI_ARGS, "--out", str(tmp_path / "out"), "--backend", "ray", "--ray-address", "127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach a Ray cluster at '127.0.0.1:9'" in err and "ray start --head" in err
    assert time.monotonic() - start < 30 and not (tmp_path / "out").exists()


def test_an_address_that_accepts_but_is_no_ray_cluster_fails_within_30_seconds(tmp_path, capsys):
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'fuseprune[ray]'")
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections, never answers
        port = silent.getsockname()[1]
        start = time.monotonic()
        code = main(
            [*CLI_ARGS, "--out", str(tmp_path / "out"), "--backend", "ray", "--ray-address", f"127.0.0.1:{port}"]
        )
        seconds = time.monotonic() - start
    err = capsys.readouterr().err
    assert code == 2 and f"cannot reach a Ray cluster at '127.0.0.1:{port}'" in err
    assert seconds < 30 and not (tmp_path / "out").exists()


def test_a_malformed_ray_address_is_named():
    with pytest.raises(ConfigError, match="is not host:port"):
        check_reachable("nowhere")


def test_compare_and_report_from_the_command_line(teachers, tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["compare", "--datasets", "iris", "--strategies", "weight_norm,random", "--preset", "tiny",
                 "--calibration-rows", "64", "--speed-rows", "32", "--out", str(out), "--teachers", str(teachers)])
    captured = capsys.readouterr()
    assert code == 0 and "cells" in captured.err and "done 2 · running 0 · left 0" in captured.err
    assert "steps computed now" in captured.out and f"fuseprune report {out}" in captured.out
    code = main(["report", str(out), "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["missing_cells"] == 0 and (out / "report" / "report.md").is_file()
    assert set(payload["winners"]["quality_auc"]) == {"weight_norm", "random"}


def test_a_grid_with_other_metrics_records_them_and_the_report_shows_them(teachers, tmp_path):
    config = GridConfig(datasets=("iris",), strategies=("weight_norm", "random"), seeds=(0,), preset="tiny",
                        speed_rows=32, calibration_rows=64, metrics=("correlation", "privacy"))
    run_grid(config, tmp_path / "grid", jobs=1, teachers=teachers)
    records = ResultStore(tmp_path / "grid").records()
    teacher = next(r for r in records if r["step"] == 0)["state"]
    assert set(teacher["metrics"]) == {"corr_mae", "corr_frobenius", "dcr_share", "dcr_p5", "copy_share"}
    assert teacher["metrics"]["corr_mae"]["reference"] is not None and teacher["ceiling"] > 0  # measured once
    pruned = next(r for r in records if r["step"] == 1)["state"]
    assert pruned["metrics"]["corr_mae"]["reference"] is None and "ceiling" not in pruned
    from fuseprune.compare.report import write_report

    report = write_report(tmp_path / "grid")
    text = (tmp_path / "grid" / "report" / "report.md").read_text()
    assert "## Other metrics with half the layers removed" in text and "### correlation: mean |difference|" in text
    assert "| reference (real rows) |" in text  # beside the quality tables too: the teacher's ceiling
    table = report.tables["corr_mae_at_half"]
    assert {"teacher (no layer removed)", "reference (real rows)", "random", "weight_norm"} <= set(table.index)
    assert "corr_mae_at_half" in set(report.tables["head_to_head"]["criterion"])


def test_a_results_folder_from_before_metrics_existed_still_resumes(tmp_path):
    store = ResultStore(tmp_path / "old", CONFIG)
    grid = json.loads((store.folder / "grid.json").read_text())
    del grid["grid"]["metrics"]  # as written before the field existed
    (store.folder / "grid.json").write_text(json.dumps(grid))
    assert ResultStore(tmp_path / "old", CONFIG).config == CONFIG
