"""Kill tests: SIGKILL a real write at the exact moment of each rename; the target is whole, old or new.

A writer runs in a child forked from the test process (so it needs no fresh
imports) and is traced by ``strace -e inject=SYSCALL:signal=SIGKILL:when=N``,
attached before the child starts. strace counts each rename system call
separately, so every (syscall, N) up to the count of a first, uninjected run
is a kill at one rename. After each kill the target must be exactly the old
folder or exactly the new one, and the start of the next write must leave no
temporary behind.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import shutil
import signal
import subprocess
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest
import torch

import fuseprune.files as files
from fuseprune.outputs import MODEL, RUN, check_folder

STRACE = shutil.which("strace")
RENAMES = ("rename", "renameat", "renameat2")
pytestmark = [
    pytest.mark.skipif(STRACE is None, reason="strace is not installed; the kill tests inject SIGKILL with it"),
    pytest.mark.skipif(not hasattr(os, "fork"), reason="the kill tests fork the writer"),
]


def traced(job: Callable[[], None], workdir: Path, trace: Path, *options: str) -> int:
    """Run ``job`` in a forked child in ``workdir`` under strace; return its wait status."""
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the writer
        code = 1
        try:
            os.close(ready_w)
            os.read(ready_r, 1)  # wait until strace is attached
            os.chdir(workdir)
            job()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(ready_r)
    tracer = subprocess.Popen([STRACE, "-qq", "-f", "-p", str(pid), "-e", f"trace={','.join(RENAMES)}", *options,
                               "-o", str(trace)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while _tracer(pid) == 0 and time.monotonic() < deadline and tracer.poll() is None:
        time.sleep(0.01)
    if _tracer(pid) == 0:  # ptrace is not allowed here (a container without CAP_SYS_PTRACE, say)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        tracer.kill()
        os.close(ready_w)
        pytest.skip("strace cannot attach to the writer (ptrace is not permitted here)")
    os.write(ready_w, b"x")
    os.close(ready_w)
    _, status = os.waitpid(pid, 0)
    tracer.wait(timeout=60)
    return status


def _tracer(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("TracerPid:"))


def snapshot(root: Path) -> dict[str, str] | None:
    """Every path under ``root`` with the hash of its content (None for a folder); None if absent."""
    if not root.exists():
        return None
    return {str(p.relative_to(root)): None if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))}


def kill_everywhere(job: Callable[[], None], target: Path, old: Path, state: Callable[[], str], tmp: Path,
                    kind=MODEL) -> dict[tuple[str, int], str]:
    """Kill ``job`` at every rename in turn, ``target`` reset to a copy of ``old`` each time; the state after each."""
    workdir, trace = target.parent, tmp / "trace.txt"
    shutil.copytree(old, target)
    assert traced(job, workdir, trace) == 0, "the uninjected run failed"
    counts = Counter(re.findall(r"^\d+\s+(rename|renameat|renameat2)\(", trace.read_text(), re.M))
    assert state() == "new"
    states = {}
    for syscall in RENAMES:
        for n in range(1, counts[syscall] + 1):
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(old, target)
            status = traced(job, workdir, trace, "-e", f"inject={syscall}:signal=SIGKILL:when={n}")
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (syscall, n, status)
            if not target.exists():  # only the fallback's window: the old folder waits under its temporary name
                assert any(p.name.endswith(".old.tmp") for p in workdir.iterdir()), (syscall, n)
            check_folder(target, kind)  # the start of the next write cleans (and restores) ...
            states[syscall, n] = state()
            leftovers = [p.name for p in workdir.iterdir() if p.name.startswith(f".{target.name}.")]
            assert leftovers == [], (syscall, n, leftovers)  # ... leaving no temporary behind
            assert states[syscall, n] in ("old", "new"), (syscall, n, states[syscall, n])
    return states


@pytest.mark.slow
@pytest.mark.parametrize("swap", ["exchange", "fallback"])
def test_a_killed_model_save_leaves_the_old_or_the_new_folder(tiny_bundle, tmp_path, swap):
    new = copy.deepcopy(tiny_bundle)
    with torch.no_grad():
        new.model.transformer.wte.weight.add_(0.5)
    reference = {name: snapshot(bundle.save(tmp_path / name / "model")) for name, bundle in
                 (("old", tiny_bundle), ("new", new))}
    target = tmp_path / "work" / "model"
    target.parent.mkdir()

    def job() -> None:
        if swap == "fallback":
            files.exchange = lambda a, b: False
        new.save(target)

    def state() -> str:
        now = snapshot(target)
        return next((name for name, tree in reference.items() if tree == now), "mixed or absent")

    states = kill_everywhere(job, target, tmp_path / "old" / "model", state, tmp_path)
    final = ("renameat2", 1) if swap == "exchange" else ("rename", max(n for s, n in states if s == "rename"))
    assert states[final] == "old" and len(states) >= 4  # safetensors, codec, info, then the swap itself


# timings of the distillation and of the run's phases
VOLATILE = {".fuseprune", "student/.fuseprune", "student/fuseprune.json", "summary.json"}


@pytest.mark.slow
def test_a_killed_run_leaves_the_old_or_the_new_run_folder(tmp_path):
    from fuseprune.data import load_table
    from fuseprune.tabular import TrainConfig, train_on_table

    teachers = {"old": train_on_table(load_table("iris"), TrainConfig(preset="tiny", max_epochs=1, seed=0))}
    teachers["new"] = copy.deepcopy(teachers["old"])
    with torch.no_grad():
        teachers["new"].model.transformer.wte.weight.add_(0.5)
    for tag, teacher in teachers.items():
        teacher.info["tag"] = tag
        (tmp_path / tag).mkdir()
        assert traced(run_job(teacher, tag), tmp_path / tag, tmp_path / "trace.txt") == 0
    reference = {tag: snapshot(tmp_path / tag / "run") for tag in teachers}
    assert set(reference["old"]) == set(reference["new"]) >= {"teacher/model.safetensors", "plan.json", "summary.json"}
    target = tmp_path / "work" / "run"
    target.parent.mkdir()

    def state() -> str:
        now = snapshot(target)
        if now is None or now == reference["old"]:
            return "absent" if now is None else "old"
        stable = {k: v for k, v in now.items() if k not in VOLATILE}
        expected = {k: v for k, v in reference["new"].items() if k not in VOLATILE}
        if stable == expected and set(now) == set(reference["new"]):
            new = ('"tag": "new"' in (target / "student" / "fuseprune.json").read_text()
                   and '"iris-new"' in (target / "summary.json").read_text())
            return "new" if new else "mixed"
        return "mixed or absent"

    states = kill_everywhere(run_job(teachers["new"], "new"), target, tmp_path / "old" / "run", state, tmp_path,
                             kind=RUN)
    assert set(states.values()) == {"old"} and states["renameat2", 1] == "old" and len(states) >= 10


def run_job(teacher, tag: str) -> Callable[[], None]:
    """``fuseprune run --data iris --preset tiny --remove 1 --out run`` with the slow parts stubbed.

    The teacher is given (saved as a fresh training would save it), the
    distillation runs one epoch, and evaluation returns a record tagged with
    ``tag`` (the SDMetrics and speed measurements take most of a real run).
    """
    import fuseprune.pipeline as pipeline
    from fuseprune.distill import DistillConfig
    from fuseprune.tabular.evaluation import EvaluationRecord

    def load_or_train(table, config, folder, **_):
        teacher.save(folder)
        return teacher, False

    def evaluate(model, train, holdout, config=None, *, data_name="", progress=None):
        return EvaluationRecord(f"{data_name}-{tag}", 1, (0,), 0.5, 0.0, (0.5,), 0.5, 0.5, 1.0, 0.9, 0.0, 3.0,
                                model.num_parameters, 1000, 100.0, 64, model.model.config.n_layer)

    def job() -> None:
        with (
            mock.patch.object(pipeline, "load_or_train", load_or_train),
            mock.patch.object(pipeline, "evaluate", evaluate),
            mock.patch.object(pipeline, "distill_config", lambda preset, seed: DistillConfig(seed=seed, max_epochs=1)),
        ):
            pipeline.run_main(pipeline.RunConfig(data="iris", preset="tiny", remove="1", out="run"))

    return job
