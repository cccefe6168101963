"""What a benchmark needs to know about the machine: is it idle, what is its fp32 matmul rate, what is it.

- :func:`busy_reasons` reads the load average and every process's CPU time over a
  short window (``/proc``), and names what competes for the cores.
- :func:`matmul_rate` times ``torch.mm`` (best of N, the threads the benchmark uses).
- :func:`gpt2_flops_per_row` counts the floating-point operations one sampled row needs.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

import torch


def busy_reasons(max_load: float, max_process_cpu: float = 10.0, window: float = 2.0) -> list[str]:
    """Why the machine is not idle (empty when it is): high load average or processes using CPU.

    Args:
        max_load: Highest acceptable 1-minute load average.
        max_process_cpu: A process using more than this percentage of one core over ``window`` competes.
        window: Seconds over which process CPU use is measured.
    """
    reasons = []
    load = os.getloadavg()
    if load[0] > max_load:
        reasons.append(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1-minute limit {max_load})")
    for pid, percent, command in competing_processes(window, max_process_cpu):
        reasons.append(f"process {pid} uses {percent:.0f}% of a core: {command}")
    return reasons


def announce_load(max_load: float, force: bool, status: Any) -> list[str]:
    """Say on ``status`` (a rich console) whether the machine is idle; return why it is busy (empty: idle).

    A benchmark stops on a busy machine (``SystemExit(3)``) unless ``force``, in which case it goes on and
    its figures are marked busy.
    """
    reasons = busy_reasons(max_load)
    if not reasons:
        status.print("machine idle: load average and process CPU use below the limits")
        return reasons
    status.print("busy machine, figures marked as such (--force):" if force else
                 "refusing to benchmark on a busy machine (use --force to run anyway):")
    for reason in reasons:
        status.print(f"  {reason}")
    if not force:
        raise SystemExit(3)
    return reasons


def competing_processes(window: float, threshold: float) -> list[tuple[int, float, str]]:
    """(pid, % of one core, command line) of other processes above ``threshold`` during ``window`` seconds."""
    if not Path("/proc/self/stat").exists():
        return []
    ticks = os.sysconf("SC_CLK_TCK")
    before = _cpu_ticks()
    time.sleep(window)
    after = _cpu_ticks()
    mine = {os.getpid(), os.getppid()}
    found = []
    for pid, used in after.items():
        percent = 100.0 * (used - before.get(pid, used)) / ticks / window
        if pid not in mine and percent > threshold:
            found.append((pid, percent, _command(pid)))
    return sorted(found, key=lambda item: -item[1])


def _cpu_ticks() -> dict[int, int]:
    ticks = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks


def _command(pid: int) -> str:
    try:
        text = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        text = ""
    return (text or "?")[:120]


def matmul_rate(shapes: list[tuple[int, int, int]], threads: int, repeats: int = 5, min_seconds: float = 0.2) -> float:
    """fp32 FLOP/s of ``torch.mm`` over ``shapes`` (m, k, n) run in turn, best of ``repeats`` timed runs.

    Each timed run repeats the sequence until it lasts at least ``min_seconds``.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        operands = [(torch.randn(m, k), torch.randn(k, n), torch.empty(m, n)) for m, k, n in shapes]
        flops = sum(2.0 * m * k * n for m, k, n in shapes)

        def once() -> None:
            for a, b, out in operands:
                torch.mm(a, b, out=out)

        once()
        start, calls = time.perf_counter(), 0
        while time.perf_counter() - start < min_seconds:
            once()
            calls += 1
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(calls):
                once()
            best = min(best, (time.perf_counter() - start) / calls)
        return flops / best
    finally:
        torch.set_num_threads(previous)


def gpt2_layer_shapes(config: object, rows: int) -> list[tuple[int, int, int]]:
    """The matrix products of one GPT-2 block for ``rows`` tokens: qkv, attention output, MLP in and out."""
    width = config.n_embd
    inner = config.n_inner or 4 * width
    return [(rows, width, 3 * width), (rows, width, width), (rows, width, inner), (rows, inner, width)]


def gpt2_flops_per_row(config: object, head_tokens: list[int], computed: list[float] | None = None) -> float:
    """Floating-point operations to sample one row.

    For the token at position t (t = 0 .. T-1, attending to t + 1 positions),
    every one of the L layers does the block's four matrix products,
    2 * (3 E^2 + E^2 + 2 E F) with width E and MLP width F (24 E^2 when F = 4 E),
    and the attention over the prefix, 2 * 2 * (t + 1) * E (query . keys and
    weights . values); the output head adds 2 * E * n_t for the n_t tokens
    allowed at that position (``head_tokens``). Layer norms, softmax, GELU and
    the embeddings are O(E) per token and left out.

    ``computed[t]`` is the share of rows whose step t is computed (the sampler
    computes a step once per distinct prefix: once per batch at t = 0); None
    counts every row at every step (what ``generate`` computes).
    """
    width, layers = config.n_embd, config.n_layer
    inner = config.n_inner or 4 * width
    block = 2.0 * (3 * width * width + width * width + 2 * width * inner)
    computed = computed or [1.0] * len(head_tokens)
    return sum(share * (layers * (block + 4.0 * (t + 1) * width) + 2.0 * width * tokens)
               for t, (tokens, share) in enumerate(zip(head_tokens, computed, strict=True)))


def describe() -> dict[str, object]:
    """CPU model, cores, library versions."""
    import transformers

    cpu = "unknown"
    info = Path("/proc/cpuinfo")
    if info.exists():
        names = [
            line.split(":", 1)[1].strip() for line in info.read_text().splitlines() if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    return {"cpu": cpu or platform.processor(), "cores": os.cpu_count(), "python": platform.python_version(),
            "torch": torch.__version__, "transformers": transformers.__version__}
