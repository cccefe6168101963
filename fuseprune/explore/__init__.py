"""The app of ``fuseprune compress``: a resumable search over compression methods, their settings and combinations.

- :class:`ExploreConfig` says what is searched; :func:`run_search` measures
  the teacher and every candidate (built with :mod:`fuseprune.compress`,
  healed by distillation) on local worker processes or Ray, appending one
  record per candidate to a :class:`CandidateStore` folder, and resumes an
  interrupted search; it then saves the fastest candidate that keeps the
  target quality and writes the report.
- :mod:`fuseprune.explore.pareto`: the frontiers and the choice, on plain numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fuseprune.explore.config import ExploreConfig
from fuseprune.explore.pareto import Point, choose, frontier, size_frontier, speed_frontier
from fuseprune.lazy import lazy_exports

if TYPE_CHECKING:
    from fuseprune.explore.runner import SearchSummary as SearchSummary
    from fuseprune.explore.runner import run_search as run_search
    from fuseprune.explore.store import CandidateStore as CandidateStore

_EXPORTS = {"run_search": "fuseprune.explore.runner", "SearchSummary": "fuseprune.explore.runner",
            "CandidateStore": "fuseprune.explore.store"}

__all__ = [
    "CandidateStore",
    "ExploreConfig",
    "Point",
    "SearchSummary",
    "choose",
    "frontier",
    "run_search",
    "size_frontier",
    "speed_frontier",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
