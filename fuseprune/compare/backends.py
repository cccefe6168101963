"""Where grid tasks run: local worker processes (default) or Ray tasks.

A backend takes tasks and yields each finished one with the records it
returned, calling ``started(task)`` when a task begins. It keeps at most
``jobs`` tasks in flight. Local workers append their step records to the
store themselves; Ray workers return them (they may run on other machines).
"""

from __future__ import annotations

import concurrent.futures as futures
import logging
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import connection
from typing import Any
from urllib.parse import urlparse

from fuseprune.compare.cell import Record, Task, execute
from fuseprune.errors import ConfigError, FusepruneError
from fuseprune.lifetime import die_with_parent
from fuseprune.registry import Registry

log = logging.getLogger(__name__)
#: Seconds a Ray address gets to prove it is a Ray cluster before ``--backend ray`` gives up.
RAY_CONNECT_TIMEOUT = 20.0
#: Seconds the local backend waits for a task at most before it looks again (and signal handlers run).
WAKE_INTERVAL = 0.5

Finished = tuple[Task, "list[Record] | BaseException"]


class Backend(ABC):
    """Runs tasks; yields (task, records or the exception it raised) as they finish."""

    writes_store: bool = True

    def __init__(self, jobs: int = 1, address: str | None = None) -> None:
        if jobs < 1:
            raise ConfigError(f"`jobs` must be at least 1; got {jobs}.")
        self.jobs = jobs
        self.address = address

    @abstractmethod
    def run(self, tasks: Sequence[Task], started: Callable[[Task], None]) -> Iterator[Finished]:
        """Run every task, at most ``jobs`` at once."""

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
        self._running: dict[futures.Future, Task] = {}

    def run(self, tasks: Sequence[Task], started: Callable[[Task], None]) -> Iterator[Finished]:
        """Run ``tasks`` on at most ``jobs`` worker processes; yield each as it finishes."""
        pending, running = list(tasks), self._running
        while pending or running:
            while pending and len(running) < self.jobs:
                task = pending.pop(0)
                running[self._pool.submit(execute, task)] = task
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
        self._remote = ray.remote(num_cpus=1, max_retries=0)(execute)

    def run(self, tasks: Sequence[Task], started: Callable[[Task], None]) -> Iterator[Finished]:
        """Run ``tasks`` as Ray tasks, at most ``jobs`` at a time; yield each as it finishes."""
        pending, running = list(tasks), dict[Any, Task]()  # Ray object reference -> its task
        while pending or running:
            while pending and len(running) < self.jobs:
                task = pending.pop(0)
                running[self._remote.remote(task)] = task
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


def check_reachable(address: str, timeout: float = RAY_CONNECT_TIMEOUT) -> None:
    """Fail within about ``timeout`` seconds unless a Ray cluster accepts a connection at ``address``.

    ``ray.init`` itself may wait minutes for an address that accepts TCP
    connections but is no Ray cluster (or sits behind a proxy), so a throw-away
    process tries to connect first and is killed when the time is up.
    """
    parsed = urlparse(address if "://" in address else f"ray://{address}")
    try:
        host, port = parsed.hostname, parsed.port
    except ValueError:
        host, port = None, None
    if not host or not port:
        raise ConfigError(f"--ray-address {address!r} is not host:port (e.g. 10.0.0.5:6379 or ray://10.0.0.5:10001).")
    hint = "start one with `ray start --head` or leave out --ray-address to start a local one."
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise ConfigError(f"cannot reach a Ray cluster at {address!r} ({exc.strerror or exc}); {hint}") from None
    probe = "import sys, ray; ray.init(address=sys.argv[1], logging_level=40, log_to_driver=False); ray.shutdown()"
    try:
        result = subprocess.run([sys.executable, "-c", probe, address], capture_output=True, text=True,
                                timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ConfigError(f"cannot reach a Ray cluster at {address!r}: no answer within {timeout:.0f} s; "
                          f"{hint}") from None
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise ConfigError(f"cannot reach a Ray cluster at {address!r} ({reason}); {hint}")


def make_backend(name: str, jobs: int = 1, address: str | None = None) -> Backend:
    """The backend called ``name`` (the error lists the known ones)."""
    return BACKENDS.get(name)(jobs, address)
