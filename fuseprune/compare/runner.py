"""run_grid: run (or resume) a comparison grid on a backend, teachers first, then the cells."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from fuseprune.compare.backends import Backend, make_backend
from fuseprune.compare.cell import Record, Task
from fuseprune.compare.grid import Cell, GridConfig
from fuseprune.compare.store import ResultStore, cell_of
from fuseprune.data import load_table
from fuseprune.errors import FusepruneError

log = logging.getLogger(__name__)
DEFAULT_TEACHERS = "runs/teachers"


class GridProgress(Protocol):
    """Receives the grid's progress: tasks done, running and left."""

    def begin(self, phase: str, total: int) -> None:
        """A phase (``teachers`` or ``cells``) with ``total`` tasks starts."""

    def started(self, label: str) -> None:
        """A task started."""

    def finished(self, label: str, ok: bool) -> None:
        """A task finished (``ok`` False if it failed)."""

    def end(self) -> None:
        """The phase is over."""


class _NoProgress:
    def begin(self, phase: str, total: int) -> None:
        pass

    def started(self, label: str) -> None:
        pass

    def finished(self, label: str, ok: bool) -> None:
        pass

    def end(self) -> None:
        pass


@dataclass
class GridSummary:
    """What a run of :func:`run_grid` did.

    Attributes:
        cells: Cells in the grid.
        skipped: Cells already finished before this run.
        steps_computed: Step records this run wrote.
        failures: ``label: error`` of each cell that failed.
    """

    out: Path
    cells: int
    skipped: int
    steps_computed: int = 0
    failures: list[str] = field(default_factory=list)


def run_grid(
    config: GridConfig,
    out: str | Path,
    *,
    backend: str | Backend = "local",
    jobs: int = 1,
    ray_address: str | None = None,
    teachers: str | Path = DEFAULT_TEACHERS,
    threads: int = 1,
    progress: GridProgress | None = None,
) -> GridSummary:
    """Run every cell of ``config`` not yet finished in the results folder ``out``.

    Args:
        config: The grid.
        out: Results folder; created for this grid, or resumed if it holds the same grid.
        backend: ``"local"`` (worker processes) or ``"ray"``, or a :class:`Backend`.
        jobs: Tasks run at once.
        ray_address: Address of an existing Ray cluster (``--backend ray`` only).
        teachers: Folder of the teacher cache (shared with ``fuse build-bank``).
        threads: Torch threads per task.
        progress: Receives tasks started and finished.

    Raises:
        ConfigError: The folder holds another grid, or the backend cannot start.
        DataError: A data set cannot be read (checked before anything is written).
        FusepruneError: Some cells failed (the others are saved), or a worker died.
    """
    for dataset in config.datasets:  # a table that cannot be read is refused before anything starts
        load_table(dataset)
    runner = make_backend(backend, jobs, ray_address) if isinstance(backend, str) else backend
    try:
        store = ResultStore(out, config)
        progress = progress or _NoProgress()
        finished = _finished_cells(store.records())
        cells = config.cells()
        todo = [cell for cell in cells if cell not in finished]
        summary = GridSummary(Path(out), len(cells), len(cells) - len(todo))
        if not todo:
            return summary
        common = functools.partial(Task, config=config.to_dict(), teachers=str(teachers), threads=threads)
        needed = sorted({(c.dataset, c.seed) for c in todo}, key=config.teachers().index)
        store_path = str(store.folder) if runner.writes_store else None
        teacher_tasks = [common("teacher", cell=Cell(d, s, ""), store=store_path) for d, s in needed]
        _run_phase("teachers", teacher_tasks, runner, store, progress, summary)
        if summary.failures:
            raise FusepruneError(f"no teacher for {'; '.join(summary.failures)}")
        known = store.records()
        cell_tasks = [common("cell", cell=cell, store=store_path,
                             records=() if runner.writes_store else _relevant(known, cell)) for cell in todo]
        _run_phase("cells", cell_tasks, runner, store, progress, summary)
    finally:
        runner.close()
    if summary.failures:
        raise FusepruneError(f"{len(summary.failures)} of {len(todo)} cells failed ({'; '.join(summary.failures)}); "
                             "the others are saved: fix the cause and run the same command again.")
    return summary


def _run_phase(phase: str, tasks: Sequence[Task], runner: Backend, store: ResultStore, progress: GridProgress,
               summary: GridSummary) -> None:
    progress.begin(phase, len(tasks))
    try:
        for task, result in runner.run(tasks, lambda t: progress.started(t.label)):
            if isinstance(result, BaseException):
                log.error("%s failed: %s", task.label, result)
                summary.failures.append(f"{task.label}: {result}")
            else:
                if not runner.writes_store:
                    for record in result:
                        store.append(record)
                summary.steps_computed += len(result)
            progress.finished(task.label, not isinstance(result, BaseException))
    finally:
        progress.end()


def _finished_cells(records: Sequence[Record]) -> set[Cell]:
    """Cells whose last step (one layer left, nothing next) is in the store."""
    return {cell_of(r) for r in records if r["next"] is None}


def _relevant(records: Sequence[Record], cell: Cell) -> tuple[Record, ...]:
    """The records a remote cell needs: its teacher's (to resume and reuse measured states)."""
    return tuple(r for r in records if (r["dataset"], r["seed"]) == (cell.dataset, cell.seed))
