"""Strategy comparisons: a resumable grid of (data set, seed, strategy) pruning runs, and its report.

- :class:`GridConfig` says what is compared; :func:`run_grid` runs it on local
  worker processes or Ray, appending one record per finished step to a
  :class:`ResultStore` folder, and resumes an interrupted run.
- :func:`write_report` turns a results folder into tables, plots and ``report.md``
  (imported on first use: it loads matplotlib).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fuseprune.compare.grid import Cell, GridConfig, expand_strategies
from fuseprune.compare.runner import GridSummary, run_grid
from fuseprune.compare.store import ResultStore, comparable
from fuseprune.lazy import lazy_exports

if TYPE_CHECKING:
    from fuseprune.compare.report import write_report as write_report

_EXPORTS = {"write_report": "fuseprune.compare.report"}

__all__ = [
    "Cell",
    "GridConfig",
    "GridSummary",
    "ResultStore",
    "comparable",
    "expand_strategies",
    "run_grid",
    "write_report",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
