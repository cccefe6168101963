"""Strategy comparisons: a resumable grid of (data set, seed, strategy) pruning runs, and its report.

- :class:`GridConfig` says what is compared; :func:`run_grid` runs it on local
  worker processes or Ray, appending one record per finished step to a
  :class:`ResultStore` folder, and resumes an interrupted run.
- :func:`write_report` turns a results folder into tables, plots and ``report.md``.
"""

from fuseprune.compare.grid import Cell, GridConfig, expand_strategies
from fuseprune.compare.runner import GridSummary, run_grid
from fuseprune.compare.store import ResultStore, comparable

__all__ = ["Cell", "GridConfig", "GridSummary", "ResultStore", "comparable", "expand_strategies", "run_grid"]
