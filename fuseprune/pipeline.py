"""The main job (`fuseprune run`): the whole pipeline on one table, into one run folder.

1. train the teacher with its preset's training recipe (or reuse the one in the
   run folder if it was trained the same way);
2. score its layers and plan half of them away with the best available
   strategy: forest fusion fitted on the shipped bank without this data set's
   rows (leave-one-dataset-out), or ``block_influence`` if no bank is usable;
3. prune the teacher by the plan and heal the student by distillation with the
   preset's distillation recipe;
4. evaluate teacher and student on the same holdout rows and compare them.

The run folder holds ``teacher/``, ``plan.json``, ``student/``, ``teacher.json``,
``student.json`` (evaluation records) and ``summary.json`` (which also records
the wall time of each phase). It is written as one
unit: the whole folder is built under a hidden temporary name next to it (the
previous run's teacher hard-linked in, and reused if it matches) and swapped in
by one atomic exchange at the end. A run that fails or is killed leaves the
previous run folder exactly as it was; it is not resumed (a killed run's
temporary folder, with any teacher it trained, is deleted by the next write).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fuseprune.app_config import RunConfig as RunConfig
from fuseprune.data import Table, load_table
from fuseprune.data.catalog import target_of
from fuseprune.errors import FusepruneError
from fuseprune.evaluation import RealRows, select_metrics
from fuseprune.files import write_json_atomic
from fuseprune.jsonsafe import nan_to_none
from fuseprune.outputs import MODEL, RUN, check_folder, output_folder, written_by_fuseprune
from fuseprune.presets import distill_config
from fuseprune.progress import Progress
from fuseprune.pruning import PrunePlan, Strategy, applicable_options, get_strategy
from fuseprune.tabular import TabularGPT, TrainConfig, split_of
from fuseprune.tabular.cache import load_or_train
from fuseprune.tabular.distill import distill_tabular
from fuseprune.tabular.evaluation import EvalConfig, EvaluationRecord, evaluate
from fuseprune.tabular.pruning import make_tabular_plan, prune_tabular

log = logging.getLogger(__name__)
#: What the main job plans with: forest fusion fitted on the shipped bank without the run's data set ...
STRATEGY = "fusion-rf"
#: ... or, if that cannot be used, this signal.
FALLBACK_STRATEGY = "block_influence"


@dataclass(frozen=True)
class RunResult:
    """What the main job produced."""

    folder: Path
    reused_teacher: bool
    plan: PrunePlan
    teacher: EvaluationRecord
    student: EvaluationRecord
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {"folder": str(self.folder), "reused_teacher": self.reused_teacher, "strategy": self.plan.strategy,
                "removed_layers": list(self.plan.remove), "kept_layers": list(self.plan.kept_layers),
                "teacher": self.teacher.to_dict(), "student": self.student.to_dict(),
                "speedup": self.student.rows_per_second / self.teacher.rows_per_second, "seconds": dict(self.seconds)}

    def __rich__(self) -> Any:
        from rich.table import Table

        from fuseprune.evaluation.display import paired_rows

        t = self.teacher
        phases = ", ".join(f"{phase} {seconds:.0f} s" for phase, seconds in self.seconds.items())
        table = Table(title=f"teacher vs pruned + distilled student on {t.data} "
                            f"({self.plan.strategy}: layers {list(self.plan.remove)} removed)",
                      caption=f"mean ± sd over {len(t.seeds)} sampling seeds of {t.n_rows} rows; reference: real "
                              "rows in the generator's place (real train vs holdout)"
                              + (f"; wall time: {phases}" if phases else ""))
        for column in ("measure", "better", "teacher", "student", "student / teacher", "reference"):
            table.add_column(column, justify="left" if column in ("measure", "better") else "right")
        for row in paired_rows(t, self.student):
            table.add_row(*row)
        return table


def run_main(config: RunConfig, progress: Progress | None = None, *, overwrite: bool = False) -> RunResult:
    """Run the whole pipeline and write everything to ``config.out``, as one unit (see the module doc).

    Args:
        config: What to run.
        progress: Receives the progress of every stage.
        overwrite: Replace ``config.out`` even if it is not a run folder fuseprune wrote.

    Raises:
        OutputError: ``config.out`` may not be written (checked before any work).
    """
    target = check_folder(config.out, RUN, overwrite)
    table = load_table(config.data, config.column_types, delimiter=config.delimiter or None,
                       drop_columns=config.drop_columns)
    scoring = EvalConfig(metrics=config.metrics, target=config.target)
    _check_metrics(table, scoring)
    with output_folder(target, RUN, overwrite) as folder:
        seconds: dict[str, float] = {}
        with _timed(seconds, "train"):
            if not config.retrain:
                _link_teacher(target / "teacher", folder / "teacher")
            teacher, reused = load_or_train(
                table, TrainConfig(preset=config.preset, seed=config.seed), folder / "teacher",
                holdout=config.holdout, split_seed=config.split_seed, retrain=config.retrain, progress=progress,
            )
        train, holdout = split_of(teacher, table)
        with _timed(seconds, "plan"):
            plan = _plan(teacher, train, table.name, config, progress)
            plan.save(folder / "plan.json")
        with _timed(seconds, "distil"):
            student, _ = distill_tabular(prune_tabular(teacher, plan), teacher, train,
                                         distill_config(config.preset, seed=config.seed),
                                         layer_map=plan.kept_layers, progress=progress)
            student.save(folder / "student")
        with _timed(seconds, "evaluate"):
            records = [evaluate(m, train, holdout, scoring, data_name=table.name, progress=progress)
                       for m in (teacher, student)]
        result = RunResult(Path(config.out), reused, plan, teacher=records[0], student=records[1], seconds=seconds)
        records[0].save(folder / "teacher.json")
        records[1].save(folder / "student.json")
        write_json_atomic(folder / "summary.json", nan_to_none({**result.to_dict(), "config": asdict(config)}))
    return result


def _check_metrics(table: Table, scoring: EvalConfig) -> None:
    """Refuse a metric set the table cannot be scored with (e.g. a missing or one-class target) before any work."""
    target = scoring.target or target_of(table.name) or None
    select_metrics(scoring.metrics, RealRows(table.frame, table.frame, table.kinds, target))


@contextmanager
def _timed(seconds: dict[str, float], phase: str) -> Iterator[None]:
    """Record the wall time of the ``with`` block as ``seconds[phase]``."""
    start = time.perf_counter()
    yield
    seconds[phase] = time.perf_counter() - start


def _link_teacher(previous: Path, new: Path) -> None:
    """Put the previous run's teacher folder at ``new`` by hard links (copies across file systems)."""
    if written_by_fuseprune(previous, MODEL):
        shutil.copytree(previous, new, copy_function=_link_or_copy)


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def _plan(teacher: TabularGPT, train: Any, dataset: str, config: RunConfig, progress: Progress | None) -> PrunePlan:
    """Plan the run's pruning with :func:`run_strategy`."""
    return make_tabular_plan(teacher, train, run_strategy(dataset), remove=config.remove, seed=config.seed,
                             progress=progress)


def run_strategy(dataset: str) -> str | Strategy:
    """What the main job plans with.

    :data:`STRATEGY` with ``dataset`` held out (if it takes that option), or :data:`FALLBACK_STRATEGY` if that
    strategy cannot be used (no usable bank, not installed).
    """
    try:
        chosen = get_strategy(STRATEGY, **applicable_options(STRATEGY, {"exclude_datasets": (dataset,)}))
        chosen.prepare()
    except FusepruneError as exc:
        log.warning("%s is not available (%s); planning with %s", STRATEGY, exc, FALLBACK_STRATEGY)
        return FALLBACK_STRATEGY
    return chosen
