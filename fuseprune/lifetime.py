"""Worker processes live no longer than the process that started them; SIGTERM stops a grid cleanly.

A local worker is a spawned process. If the main process dies (SIGKILL, a
crash, the OOM killer) nobody would tell its workers, which would run their
task to the end and then wait forever for the next. So every worker:

- asks Linux to SIGKILL it when its parent dies (``prctl(PR_SET_PDEATHSIG)``;
  strictly, when the parent *thread* that started it ends: the pool starts
  workers from the thread that submits tasks, which outlives the pool);
- watches its parent's pid in a daemon thread, on every platform, and exits
  as soon as it changes (the parent died and the worker was adopted).

The pool runs :func:`die_with_parent` as the worker's initializer, before the
worker imports anything heavy (this module needs only the standard library,
so a worker is covered within about a second of starting). The
multiprocessing resource tracker then sees its last writer close and exits as
well. SIGTERM of the main process becomes :class:`Terminated`, so the
backend's ``close`` stops its workers before the process exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator

log = logging.getLogger(__name__)
#: prctl option: the signal the kernel sends a process when its parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1
#: Seconds between two looks of the watchdog thread at the parent's pid.
WATCH_INTERVAL = 0.5


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM (raised in the main thread, like KeyboardInterrupt for SIGINT)."""


def threads_per_job(jobs: int) -> int:
    """Torch threads of each of ``jobs`` worker processes at once: the machine's cores shared out, at least 1."""
    return max(1, (os.cpu_count() or 1) // jobs)


def die_with_parent(parent: int, interval: float = WATCH_INTERVAL) -> None:
    """Make this process exit when ``parent`` (its parent's pid) dies; exits at once if it already has."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
                log.debug("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
        except (OSError, AttributeError) as exc:  # no libc prctl: the watchdog alone
            log.debug("prctl unavailable: %s", exc)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent, interval), name="fuseprune-parent-watch", daemon=True).start()


def _watch(parent: int, interval: float) -> None:
    while True:
        time.sleep(interval)
        if os.getppid() != parent:
            os._exit(1)


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread (elsewhere: no change)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
