"""Commands of strategy comparisons: compare (run or resume a grid), report (tables and plots)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fuseprune.app_config import BankConfig, GridConfig
from fuseprune.cli.config_options import add_config_options, config_from_args
from fuseprune.cli.output import (
    MAX_CALIBRATION_ROWS,
    MAX_SPEED_ROWS,
    add_overwrite,
    emit,
    err,
    integer,
    out,
    seeds,
    table,
)

#: GridConfig fields the compare command exposes (``--field-name``), in the order of its help.
GRID_FIELDS = (
    "datasets",
    "strategies",
    "seeds",
    "preset",
    "quality_seeds",
    "calibration_rows",
    "speed_rows",
    "quality_steps",
    "distill",
    "distill_epochs",
    "distill_steps",
    "bank",
    "metrics",
    "regret",
    "regret_rows",
    "distill_subsets",
)


class GridDisplay:
    """Live rich display of a grid: a bar per phase with cells done, running and left."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[info]}"), console=err, transient=False,
        )
        self._task: Any = None
        self._running: list[str] = []
        self._done = self._failed = self._total = 0

    def begin(self, phase: str, total: int) -> None:
        """Start the bar of ``phase`` with ``total`` cells."""
        self._running, self._done, self._failed, self._total = [], 0, 0, total
        self._progress.start()
        self._task = self._progress.add_task(phase, total=total, info="")

    def started(self, label: str) -> None:
        """Show cell ``label`` as running."""
        self._running.append(label)
        self._update()

    def finished(self, label: str, ok: bool) -> None:
        """Count cell ``label`` as done (failed unless ``ok``)."""
        self._running.remove(label)
        self._done += 1
        self._failed += not ok
        self._update(advance=1)

    def end(self) -> None:
        """Stop the display, leaving the last bar on screen."""
        self._progress.stop()

    def _update(self, advance: int = 0) -> None:
        left = self._total - self._done - len(self._running)
        failed = f" · [red]{self._failed} failed[/red]" if self._failed else ""
        info = f"done {self._done} · running {len(self._running)} · left {left}{failed}  {', '.join(self._running)}"
        self._progress.update(self._task, advance=advance, info=info)


def cmd_compare(args: argparse.Namespace) -> None:
    """Run (or resume) a grid of pruning strategies on data sets and seeds."""
    from fuseprune.compare import run_grid
    from fuseprune.lifetime import Terminated, sigterm_raises
    from fuseprune.outputs import RESULTS, check_folder

    check_folder(args.out, RESULTS, option="--out")
    config = config_from_args(GridConfig, args, GRID_FIELDS)
    start = time.perf_counter()
    try:
        with sigterm_raises():
            summary = run_grid(config, args.out, backend=args.backend, jobs=args.jobs, ray_address=args.ray_address,
                               teachers=args.teachers, progress=None if args.json else GridDisplay())
    except Terminated:
        err.print(f"terminated (SIGTERM): workers stopped; every finished step is in {args.out}, run the same "
                  "command again to resume.", highlight=False, soft_wrap=True)
        raise SystemExit(143) from None
    minutes = (time.perf_counter() - start) / 60
    payload = {"out": args.out, "cells": summary.cells, "already_finished": summary.skipped,
               "steps_computed": summary.steps_computed, "minutes": round(minutes, 2)}
    rows = [("results", args.out), ("cells", summary.cells), ("already finished before this run", summary.skipped),
            ("steps computed now", summary.steps_computed), ("wall time", f"{minutes:.1f} min")]
    emit(args, payload, lambda: table("comparison", ["", ""], rows))
    if not args.json:
        out.print(f"next: fuseprune report {args.out}", soft_wrap=True, highlight=False)


def cmd_report(args: argparse.Namespace) -> None:
    """Write the report folder of a comparison: tables, curves, heatmap and report.md."""
    from pathlib import Path

    from fuseprune.compare.report import write_report
    from fuseprune.outputs import REPORT, check_folder

    check_folder(args.out or Path(args.results) / "report", REPORT, args.overwrite, option="--out")
    report = write_report(args.results, args.out, overwrite=args.overwrite)
    counts = {name: {str(s): int(n) for s, n in wins.items()} for name, wins in report.winners.items()}
    payload = {"report": str(report.folder / "report.md"), "missing_cells": report.missing_cells, "winners": counts,
               "ties": report.ties}

    def render() -> Any:
        strategies = sorted({s for wins in counts.values() for s in wins})
        wins = {s: [counts[name].get(s, 0) for name in counts] for s in strategies}
        rows: list[list[Any]] = [[s, *wins[s]] for s in sorted(strategies, key=lambda s: -sum(wins[s]))]
        rows.append(["tie (no separated winner)", *[report.ties[name] for name in counts]])
        return table(f"data sets won with a lead a paired test confirms, per criterion "
                     f"(report: {report.folder / 'report.md'})", ["strategy", *counts], rows)

    emit(args, payload, render)
    if report.missing_cells and not args.json:
        out.print(f"[yellow]{report.missing_cells} cells have not finished; the report covers the finished steps.")


def add_parsers(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add ``fuseprune compare`` and ``fuseprune report``."""
    p = command("compare", cmd_compare, "compare pruning strategies: prune one layer at a time, measure every step")
    add_config_options(p, GridConfig, GRID_FIELDS, required=("datasets",), types={
        "seeds": seeds, "quality_seeds": seeds, "calibration_rows": integer(1, MAX_CALIBRATION_ROWS),
        "speed_rows": integer(1, MAX_SPEED_ROWS), "distill_epochs": integer(1, 1000),
        "regret_rows": integer(1, 100_000), "distill_subsets": integer(1, 10_000)})
    p.add_argument("--out", required=True, help="results folder (resumed if it holds the same grid)")
    p.add_argument("--jobs", type=integer(1, 256), default=1, help="cells run at once, at most 256 (default: 1)")
    p.add_argument("--backend", default="local", help="local (worker processes) or ray (default: local)")
    p.add_argument("--ray-address", help="host:port of an existing Ray cluster (default: start a local one)")
    add_config_options(p, BankConfig, ("teachers",))
    p = command("report", cmd_report, "write the report of a comparison: tables, curves, plots and report.md")
    p.add_argument("results", help="results folder of `fuseprune compare`")
    p.add_argument("--out", help="report folder (default: RESULTS/report)")
    add_overwrite(p)
