"""How long-running library functions report progress without printing.

The library never prints. Functions that take a while accept a ``progress``
object with three methods; the command line passes one that draws a rich
progress bar, library users can pass their own or nothing.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives progress of one long task at a time."""

    def start(self, description: str, total: int | None) -> None:
        """A task with ``total`` steps (None if unknown) begins."""

    def advance(self, n: int = 1, **info: object) -> None:
        """``n`` more steps are done; ``info`` carries live figures (loss, rows/s)."""

    def stop(self) -> None:
        """The current task has finished."""


class NullProgress:
    """A progress sink that ignores everything (the default)."""

    def start(self, description: str, total: int | None) -> None:
        """Ignore the start of a task."""

    def advance(self, n: int = 1, **info: object) -> None:
        """Ignore progress."""

    def stop(self) -> None:
        """Ignore the end of a task."""


def or_null(progress: Progress | None) -> Progress:
    """Return ``progress`` or a :class:`NullProgress` when it is None."""
    return progress if progress is not None else NullProgress()


def quiet_transformers() -> None:
    """Silence transformers' own progress bars and warnings (fuseprune reports progress itself)."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
