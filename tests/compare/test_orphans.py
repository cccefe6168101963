"""Killing `fuseprune compare` leaves no process behind: workers and the resource tracker die with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import fuseprune
from fuseprune.lifetime import Terminated, sigterm_raises

ROOT = Path(fuseprune.__file__).resolve().parents[1]
COMMAND = [sys.executable, "-c", "import sys; from fuseprune.cli import main; sys.exit(main())", "compare",
           "--datasets", "iris,wine", "--strategies", "random,weight_norm", "--preset", "tiny", "--jobs", "2",
           "--json"]


def _processes() -> dict[int, tuple[int, str, str]]:
    """Every process: pid -> (parent pid, state letter, start time), read from /proc/*/stat."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            table[int(entry.name)] = (int(fields[1]), fields[0], fields[19])
    return table


def _descendants(pid: int) -> dict[int, str]:
    """Living descendants of ``pid``: pid -> start time (to tell a reused pid apart)."""
    table, found, todo = _processes(), {}, [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, state, start) in table.items():
            if ppid == parent and state != "Z" and child not in found:
                found[child] = start
                todo.append(child)
    return found


def _alive(processes: dict[int, str]) -> list[int]:
    table = _processes()
    return [pid for pid, start in processes.items() if pid in table and table[pid][1] != "Z" and table[pid][2] == start]


def _threads(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))


def _workers(pid: int) -> list[int]:
    workers = []
    for child in _descendants(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                workers.append(child)
        except OSError:
            continue
    return workers


def _start_compare(tmp_path: Path) -> tuple[subprocess.Popen, dict[int, str]]:
    """Start a tiny two-worker grid; return it once both workers run their first task, with its descendants."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    command = [*COMMAND, "--out", str(tmp_path / "cmp"), "--teachers", str(tmp_path / "teachers")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        workers = _workers(process.pid)
        # a worker runs more than one thread once the pool initializer has started its parent watchdog
        if len(workers) == 2 and all(_threads(w) >= 2 for w in workers):
            return process, _descendants(process.pid)
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"two busy workers never appeared; exit code {process.poll()}")


def _none_left(processes: dict[int, str], seconds: float = 10.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while _alive(processes) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = _alive(processes)
    for pid in left:  # do not leave them to the next test
        os.kill(pid, signal.SIGKILL)
    return left


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_sigkill_of_compare_leaves_no_worker_and_no_tracker(tmp_path):
    process, below = _start_compare(tmp_path)
    assert len(below) >= 3  # two workers and the multiprocessing resource tracker
    process.kill()
    process.wait(timeout=30)
    assert _none_left(below) == [], "processes outlived the killed compare"
    process.communicate(timeout=30)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_sigterm_of_compare_stops_the_workers_and_exits_143_with_one_line(tmp_path):
    process, below = _start_compare(tmp_path)
    process.terminate()
    _, stderr = process.communicate(timeout=60)
    assert _none_left(below) == [], "processes outlived the terminated compare"
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert process.returncode == 143
    assert len(lines) == 1 and lines[0].startswith("terminated (SIGTERM)") and "run the same command again" in lines[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
@pytest.mark.parametrize("prctl", [True, False], ids=["prctl", "watchdog-only"])
def test_a_process_whose_parent_dies_exits_by_itself(prctl):
    # a parent starts a child that calls die_with_parent(parent pid), prints the child's pid once it is ready, exits
    option = "" if prctl else "L.PR_SET_PDEATHSIG = 0; "  # option 0 makes prctl fail: only the watchdog is left
    child = (f"import sys, time; sys.path.insert(0, {str(ROOT)!r}); import fuseprune.lifetime as L; {option}"
             "L.die_with_parent(int(sys.argv[1])); print('ready', flush=True); time.sleep(60)")
    parent = ("import os, subprocess, sys; "
              f"p = subprocess.Popen([sys.executable, '-c', {child!r}, str(os.getpid())], stdout=subprocess.PIPE, "
              "stderr=subprocess.DEVNULL, text=True); p.stdout.readline(); print(p.pid, flush=True)")
    result = subprocess.run([sys.executable, "-c", parent], capture_output=True, text=True, timeout=60)
    pid = int(result.stdout.split()[-1])
    table = _processes()
    orphan = {pid: table[pid][2]} if pid in table else {}
    assert _none_left(orphan, 5.0) == []


def test_a_process_started_by_a_dead_parent_exits_at_once():
    # die_with_parent with a pid that is not our parent: we are already an orphan of that process
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from fuseprune.lifetime import die_with_parent; "
            "die_with_parent(1 if __import__('os').getppid() != 1 else 2); print('still here')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "still here" not in result.stdout


def test_sigterm_raises_terminated_in_the_block_and_the_old_handler_returns():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated):
        with sigterm_raises():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler interrupts this
    assert signal.getsignal(signal.SIGTERM) is before
    assert issubclass(Terminated, KeyboardInterrupt)


def test_sigterm_raises_is_a_no_op_outside_the_main_thread():
    seen = []

    def body() -> None:
        with sigterm_raises():
            seen.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert seen == [signal.getsignal(signal.SIGTERM)]
