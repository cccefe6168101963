"""Local worker processes for sampling at scale: each loads the model once and samples the chunks it is given.

A small pool of spawned processes fed through queues. Unlike a
``ProcessPoolExecutor`` it has no manager thread that could be caught waiting
on a half-written result when workers are stopped, so an interrupted run ends
at once: the workers are terminated and nothing waits for them.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from fuseprune.errors import FusepruneError

#: Seconds between checks that every worker is still alive while waiting for a chunk.
POLL_SECONDS = 0.5


class WorkerPool:
    """``jobs`` spawned processes sampling chunks of the model saved in ``folder``."""

    def __init__(self, folder: str, jobs: int, threads: int, settings: dict[str, Any]) -> None:
        context = multiprocessing.get_context("spawn")
        self.tasks, self.results = context.Queue(), context.Queue()
        self.processes = [context.Process(target=_work, args=(os.getpid(), folder, threads, settings, self.tasks,
                                                                self.results),
                                          daemon=True) for _ in range(jobs)]
        self._done: dict[int, np.ndarray] = {}
        with _sigint_ignored():  # inherited by the workers from their first instruction: Ctrl-C is the parent's
            for process in self.processes:
                process.start()

    def submit(self, chunk: Any) -> int:
        """Queue a chunk; returns the handle to wait for."""
        self.tasks.put(chunk)
        return chunk.index

    def wait(self, index: int) -> np.ndarray:
        """The token ids of chunk ``index`` (raises what the worker raised, or if a worker died)."""
        while index not in self._done:
            try:
                done, ids, error = self.results.get(timeout=POLL_SECONDS)
            except queue.Empty:
                dead = [p for p in self.processes if p.exitcode is not None]
                if dead:
                    raise FusepruneError(f"a sampling worker process died (exit code {dead[0].exitcode}; out of "
                                         "memory?); nothing was written.") from None
                continue
            if error is not None:
                raise error
            self._done[done] = ids
        return self._done.pop(index)

    def close(self, failed: bool) -> None:
        """Stop the workers: let them finish and exit, or (``failed``) terminate them at once."""
        if not failed:
            for _ in self.processes:
                self.tasks.put(None)
            for process in self.processes:
                process.join(timeout=60)
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        for process in self.processes:
            process.join(timeout=5)
        for channel in (self.tasks, self.results):
            channel.cancel_join_thread()  # never wait at exit to flush to a worker that is gone
            channel.close()


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT inside the block (in the main thread; elsewhere signals cannot be changed)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _work(parent: int, folder: str, threads: int, settings: dict[str, Any], tasks: Any, results: Any) -> None:
    """A worker process: dies with its parent, leaves Ctrl-C to it; loads the model once, samples chunks until None.

    The parent has loaded (and verified) the model folder before starting workers, so they skip the checksum.
    """
    from fuseprune.lifetime import die_with_parent

    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # already ignored since the start; kept for other start methods
    import torch

    from fuseprune.progress import quiet_transformers
    from fuseprune.tabular.model import TabularGPT
    from fuseprune.tabular.runners import sample_chunk
    from fuseprune.tabular.sampler import RowSampler

    torch.set_num_threads(threads)
    quiet_transformers()
    try:
        bundle = TabularGPT.load(folder, verify=False)
        sampler = RowSampler(bundle.model, bundle.codec)
    except Exception as exc:  # noqa: BLE001 - the parent re-raises it
        results.put((-1, None, _portable(exc)))
        return
    while (chunk := tasks.get()) is not None:
        try:
            results.put((chunk.index, sample_chunk(sampler, chunk, settings), None))
        except Exception as exc:  # noqa: BLE001 - the parent re-raises it
            results.put((chunk.index, None, _portable(exc)))


def _portable(exc: Exception) -> Exception:
    """``exc`` if the parent can rebuild it from plain arguments, else a FusepruneError naming it.

    fuseprune's and Python's own errors with plain arguments travel as they are; anything else is named in a
    message (no object is unpickled to find out).
    """
    ours = isinstance(exc, FusepruneError) or type(exc).__module__ == "builtins"
    if ours and all(isinstance(arg, (str, int, float, type(None))) for arg in exc.args):
        return exc
    return FusepruneError(f"a sampling worker failed: {type(exc).__name__}: {exc}")
