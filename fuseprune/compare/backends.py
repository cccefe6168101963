"""Where grid tasks run: local worker processes (default) or Ray tasks.

A backend takes tasks and yields each finished one with the records it
returned, calling ``started(task)`` when a task begins. A task is run by
``work(task)``: :func:`fuseprune.compare.cell.execute` unless another
(picklable, top-level) function is given, as ``fuseprune compress`` does. It keeps at most
``jobs`` tasks in flight. Local workers append their step records to the
store themselves; Ray workers return them (they may run on other machines).
"""

from __future__ import annotations

import concurrent.futures as futures
import logging
import multiprocessing
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import connection
from typing import Any

from fuseprune.compare.cell import Record, execute
from fuseprune.errors import ConfigError, FusepruneError
from fuseprune.lifetime import die_with_parent
from fuseprune.ray_cluster import check_reachable
from fuseprune.registry import Registry

log = logging.getLogger(__name__)
#: Seconds a Ray address gets to prove it is a Ray cluster before ``--backend ray`` gives up.
#: Seconds the local backend waits for a task at most before it looks again (and signal handlers run).
WAKE_INTERVAL = 0.5

Finished = tuple[Any, "list[Record] | BaseException"]
Work = Callable[[Any], "list[Record]"]


class Backend(ABC):
    """Runs tasks; yields (task, records or the exception it raised) as they finish."""

    writes_store: bool = True

    def __init__(self, jobs: int = 1, address: str | None = None) -> None:
        if jobs < 1:
            raise ConfigError(f"`jobs` must be at least 1; got {jobs}.")
        self.jobs = jobs
        self.address = address

    @abstractmethod
    def run(self, tasks: Sequence[Any], started: Callable[[Any], None], work: Work = execute) -> Iterator[Finished]:
        """Run ``work(task)`` for every task, at most ``jobs`` at once."""

    def close(self) -> None:  # noqa: B027 - an optional hook: backends that start nothing keep this no-op
        """Release what the backend started."""


#: Backends by name.
BACKENDS: Registry[type[Backend]] = Registry("backend")


@BACKENDS.register("local")
class LocalBackend(Backend):
    """Worker processes on this machine (spawned, so each starts clean; each dies with this process)."""

    def __init__(self, jobs: int = 1, address: str | None = None) -> None:
        super().__init__(jobs, address)
        if address:
            raise ConfigError("--ray-address needs --backend ray.")
        self._pool = futures.ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=die_with_parent, initargs=(os.getpid(),))
        self._running: dict[futures.Future, Any] = {}

    def run(self, tasks: Sequence[Any], started: Callable[[Any], None], work: Work = execute) -> Iterator[Finished]:
        """Run ``tasks`` on at most ``jobs`` worker processes; yield each as it finishes."""
        pending, running = list(tasks), self._running
        while pending or running:
            while pending and len(running) < self.jobs:
                task = pending.pop(0)
                running[self._pool.submit(work, task)] = task
                started(task)
            # a short timeout: a signal delivered to another thread runs its handler only when this one wakes
            done, _ = futures.wait(running, timeout=WAKE_INTERVAL, return_when=futures.FIRST_COMPLETED)
            for future in done:
                task = running.pop(future)
                try:
                    yield task, future.result()
                except BrokenProcessPool:
                    raise FusepruneError(f"a worker process died while running {task.label}; every finished step "
                                         "is saved: run the same command again to resume.") from None
                except Exception as exc:  # noqa: BLE001 - one failed cell must not stop the grid
                    yield task, exc

    def close(self) -> None:
        """Shut the pool down; tasks still running (an error or a signal stopped the grid) are killed, not awaited."""
        if any(not f.done() for f in self._running):
            log.info("stopping %d running task(s)", sum(not f.done() for f in self._running))
            self._stop_workers()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _stop_workers(self, grace: float = 5.0) -> None:
        """SIGTERM every worker, SIGKILL those still alive after ``grace`` seconds (the pool reaps them)."""
        for future in self._running:
            future.cancel()
        workers = list((getattr(self._pool, "_processes", None) or {}).values())
        for worker in workers:
            worker.terminate()
        alive = {worker.sentinel: worker for worker in workers}
        deadline = time.monotonic() + grace
        while alive and time.monotonic() < deadline:
            for sentinel in connection.wait(list(alive), timeout=max(0.0, deadline - time.monotonic())):
                alive.pop(sentinel)
        for worker in alive.values():
            worker.kill()


@BACKENDS.register("ray")
class RayBackend(Backend):
    """Ray tasks on an existing cluster (``address``) or on a local Ray instance started here."""

    writes_store = False

    def __init__(self, jobs: int = 1, address: str | None = None) -> None:
        super().__init__(jobs, address)
        try:
            import ray
        except ImportError:
            raise ConfigError("--backend ray needs Ray; install it with: pip install 'fuseprune[ray]'.") from None
        self._ray = ray
        if address:
            check_reachable(address)
            ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
            self._started = False
        else:
            ray.init(num_cpus=jobs, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
            self._started = True
        self._remotes: dict[Work, Any] = {}

    def run(self, tasks: Sequence[Any], started: Callable[[Any], None], work: Work = execute) -> Iterator[Finished]:
        """Run ``tasks`` as Ray tasks, at most ``jobs`` at a time; yield each as it finishes."""
        remote = self._remotes.get(work) or self._remotes.setdefault(
            work, self._ray.remote(num_cpus=1, max_retries=0)(work))
        pending, running = list(tasks), dict[Any, Any]()  # Ray object reference -> its task
        while pending or running:
            while pending and len(running) < self.jobs:
                task = pending.pop(0)
                running[remote.remote(task)] = task
                started(task)
            ready, _ = self._ray.wait(list(running), num_returns=1)
            task = running.pop(ready[0])
            try:
                yield task, self._ray.get(ready[0])
            except Exception as exc:  # noqa: BLE001 - RayTaskError wraps the worker's exception
                yield task, getattr(exc, "cause", None) or exc

    def close(self) -> None:
        """Shut Ray down if this backend started it."""
        if self._started:
            self._ray.shutdown()


def make_backend(name: str, jobs: int = 1, address: str | None = None) -> Backend:
    """The backend called ``name`` (the error lists the known ones)."""
    return BACKENDS.get(name)(jobs, address)
