"""run_search: run (or resume) a compression search on a backend, then choose, save and report.

The teacher is measured first (its quality decides which candidates are kept),
then every method alone at each setting, then the combinations of the
settings that kept the target alone. Finished candidates are read back from
the results folder and never computed again. At the end the fastest
candidate at or above the target is copied to ``OUT/best`` (or none, said
plainly) and the report is written to ``OUT/report``.
"""

from __future__ import annotations

import functools
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fuseprune.compare.backends import Backend, make_backend
from fuseprune.compare.runner import GridProgress
from fuseprune.errors import FusepruneError
from fuseprune.explore.candidate import Task, execute, load_teacher_table
from fuseprune.explore.config import ExploreConfig
from fuseprune.explore.grid import TEACHER, Candidate, combined_candidates, single_candidates
from fuseprune.explore.pareto import choose, points_of
from fuseprune.explore.store import MODELS, CandidateStore, Record, slug
from fuseprune.files import atomic_directory, remove_path

log = logging.getLogger(__name__)
BEST = "best"


class _NoProgress:
    """Progress that shows nothing."""

    def begin(self, phase: str, total: int) -> None:
        """Nothing to show."""

    def started(self, label: str) -> None:
        """Nothing to show."""

    def finished(self, label: str, ok: bool) -> None:
        """Nothing to show."""

    def end(self) -> None:
        """Nothing to show."""


@dataclass
class SearchSummary:
    """What a run of :func:`run_search` did and chose.

    Attributes:
        out: The results folder.
        candidates: Candidates measured in all (the teacher not counted).
        skipped: Candidates already measured before this run.
        computed: Candidates measured by this run.
        chosen: Name of the fastest candidate at or above the target, or None.
        best: Where it was saved, or None.
        report: The report's markdown file.
        records: Every record in the folder by candidate name (the teacher's as ``teacher``).
        failures: ``label: error`` of each candidate that failed.
    """

    out: Path
    candidates: int = 0
    skipped: int = 0
    computed: int = 0
    chosen: str | None = None
    best: Path | None = None
    report: Path | None = None
    records: dict[str, Record] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def run_search(
    config: ExploreConfig,
    out: str | Path,
    *,
    backend: str | Backend = "local",
    jobs: int = 1,
    ray_address: str | None = None,
    threads: int = 1,
    keep_models: bool = False,
    progress: GridProgress | None = None,
) -> SearchSummary:
    """Measure every candidate of ``config`` not yet in the results folder ``out``; choose, save and report.

    Raises:
        ConfigError: The folder holds another search, or the backend cannot start.
        DataError, ModelError, PathNotFoundError: The teacher or its table cannot be read (checked first).
        FusepruneError: Some candidates failed (the others are saved and reported).
    """
    from fuseprune.pruning.fingerprint import fingerprint_model
    from fuseprune.tabular import TabularGPT, split_of

    teacher = TabularGPT.load(config.model)
    split_of(teacher, load_teacher_table(teacher, config.data))  # a table that does not fit is refused first
    layers = teacher.model.config.n_layer
    singles = single_candidates(config, layers)
    _check_settings(singles, teacher.model)  # a rank above a layer's is refused before anything is written
    runner = make_backend(backend, jobs, ray_address) if isinstance(backend, str) else backend
    summary = SearchSummary(Path(out))
    progress = progress or _NoProgress()
    try:
        store = CandidateStore(out, config, fingerprint_model(teacher.model).weights_sha256)
        records = store.records()
        summary.skipped = len(records) - (TEACHER in records)
        task = functools.partial(Task, config=config.to_dict(), folder=str(store.folder), threads=threads)
        if TEACHER not in records:
            _phase("teacher", [task()], runner, store, progress, summary)
        if TEACHER not in store.records():
            raise FusepruneError(f"the teacher could not be measured ({'; '.join(summary.failures)}).")
        teacher_quality = store.records()[TEACHER]["quality"]
        _run_candidates("candidates", singles, task, teacher_quality, runner, store, progress, summary)
        combined = combined_candidates(config, layers, store.records(), teacher_quality)
        _run_candidates("combinations", combined, task, teacher_quality, runner, store, progress, summary)
    finally:
        runner.close()
    _finish(config, store, summary, keep_models)
    if summary.failures:
        raise FusepruneError(f"{len(summary.failures)} candidate(s) failed ({'; '.join(summary.failures)}); the "
                             "others are saved and reported: fix the cause and run the same command again.")
    return summary


def _check_settings(singles: Sequence[Candidate], model: Any) -> None:
    """Plan every single candidate but depth on ``model`` (cheap: planning only resolves ranks and counts).

    Depth is left out: a data-driven strategy would score the model here, and its counts are already in range.
    """
    from fuseprune.compress import COMPRESSIONS

    for candidate in singles:
        for name, options in candidate.requests():
            if name != "depth":
                method = COMPRESSIONS.get(name)
                method.plan(model, method.options(options))


def _run_candidates(phase: str, candidates: Sequence[Candidate], task: Any, teacher_quality: float, runner: Backend,
                    store: CandidateStore, progress: GridProgress, summary: SearchSummary) -> None:
    done = store.records()
    todo = [c for c in candidates if c.name not in done]
    tasks = [task(candidate=c, teacher_quality=teacher_quality) for c in todo]
    if tasks:
        _phase(phase, tasks, runner, store, progress, summary)


def _phase(phase: str, tasks: Sequence[Task], runner: Backend, store: CandidateStore, progress: GridProgress,
           summary: SearchSummary) -> None:
    progress.begin(phase, len(tasks))
    try:
        for task, result in runner.run(tasks, lambda t: progress.started(t.label), execute):
            if isinstance(result, BaseException):
                log.error("%s failed: %s", task.label, result)
                summary.failures.append(f"{task.label}: {result}")
            else:
                for record in result:
                    store.append(record)
                summary.computed += task.candidate is not None
            progress.finished(task.label, not isinstance(result, BaseException))
    finally:
        progress.end()


def _finish(config: ExploreConfig, store: CandidateStore, summary: SearchSummary, keep_models: bool) -> None:
    """Choose the fastest candidate at or above the target, save it to ``best``, clear ``models``, report."""
    from fuseprune.explore.report import write_report

    records = store.records()
    summary.records = records
    summary.candidates = len(records) - (TEACHER in records)
    if TEACHER not in records:
        return
    chosen = choose(points_of(records, TEACHER), config.target_quality)
    summary.chosen = chosen.name if chosen is not None else None
    if chosen is not None:
        kept = store.model_folder(chosen.name)
        if kept.is_dir():
            with atomic_directory(store.folder / BEST) as tmp:
                shutil.copytree(kept, tmp, dirs_exist_ok=True)
            summary.best = store.folder / BEST
        else:
            log.warning("the chosen candidate's folder %s is gone; not saving it to %s", kept, BEST)
    if not keep_models and (store.folder / MODELS).is_dir():
        for folder in (store.folder / MODELS).iterdir():
            if chosen is None or folder.name != slug(chosen.name):
                remove_path(folder)
    summary.report = write_report(store.folder, config, records, summary.chosen, summary.best)
