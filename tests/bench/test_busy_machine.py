"""bench/sampling.py refuses to report on a busy machine: the load average and competing processes are found."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def machine():
    spec = importlib.util.spec_from_file_location("bench_machine", BENCH / "machine.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_load_average_above_the_limit_is_a_reason(machine, monkeypatch):
    monkeypatch.setattr(machine.os, "getloadavg", lambda: (1.75, 1.5, 1.25))
    monkeypatch.setattr(machine, "competing_processes", lambda window, threshold: [])
    assert machine.busy_reasons(0.5) == ["load average 1.75 1.50 1.25 (1-minute limit 0.5)"]
    monkeypatch.setattr(machine.os, "getloadavg", lambda: (0.25, 1.5, 1.25))  # only the 1-minute figure counts
    assert machine.busy_reasons(0.5) == []


def test_a_process_spinning_on_a_core_is_found(machine, monkeypatch):
    monkeypatch.setattr(machine.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        reasons = machine.busy_reasons(0.5, window=1.0)
    finally:
        spinner.kill()
        spinner.wait()
    assert any(reason.startswith(f"process {spinner.pid} uses") and "while True" in reason for reason in reasons), (
        reasons
    )


def test_the_sampling_benchmark_refuses_and_says_why(tmp_path):
    out = tmp_path / "sampling.json"
    result = subprocess.run([sys.executable, str(BENCH / "sampling.py"), "--max-load", "-1", "--out", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 3, result.stderr
    assert "refusing to benchmark on a busy machine (use --force to run anyway):" in result.stderr
    assert "(1-minute limit -1.0)" in result.stderr and not out.exists()
