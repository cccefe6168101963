"""What one worker does: make sure a teacher exists, or run one cell of the grid step by step.

A cell removes one layer at a time by its strategy until one layer is left.
Each step writes one record as soon as it is finished::

    {"dataset", "seed", "strategy", "step", "layers", "removed", "kept",
     "keep", "next", "rank_seconds", "state": {...}}

``removed`` lists the original layers removed so far, in order; ``kept`` the
original indices of the layers left; ``keep`` the strategy's keep score of each
of them (higher = keep) and ``next`` the layer it removes next (both ``None``
once one layer is left). ``state`` measures the model as it is: SDMetrics
quality and diagnostic, holdout NLL, parameters, bytes, rows/s, the figures of
the grid's other metrics (``metrics``: figure -> mean, spread, per seed), and,
at step 0, ``oracle_impact`` (the holdout-loss increase from skipping each
layer alone) and the references (``ceiling`` for quality, and each figure's
``reference``), which depend only on the data and are measured once.

A model state is fixed by (data set, seed, removed layers), whatever the
strategy: a state already measured by another cell is copied, not measured
again. Cells resume from their last finished step.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from fuseprune.compare.grid import Cell, GridConfig
from fuseprune.compare.store import ResultStore, cell_of
from fuseprune.compare.subset_tables import distilled_student, measure_tables
from fuseprune.data import load_table
from fuseprune.progress import quiet_transformers
from fuseprune.pruning.registry import applicable_options, get_strategy, strategy_class
from fuseprune.pruning.removal import removal_path
from fuseprune.pruning.strategies import RankContext, Ranking, Strategy
from fuseprune.scoring import ablation_scores
from fuseprune.tabular import TabularGPT, TrainConfig, split_of, tabular_loss_fn
from fuseprune.tabular.cache import load_or_train, teacher_folder
from fuseprune.tabular.evaluation import EvalConfig, evaluate
from fuseprune.tabular.scoring import calibration_batches

log = logging.getLogger(__name__)
LAYERS = "transformer.h"
Record = dict[str, Any]


@dataclass(frozen=True)
class Task:
    """A unit of work for a backend: ``kind`` is ``"teacher"`` or ``"cell"``.

    Local workers append records to the store at ``store`` themselves (one line
    per finished step); remote workers get the ``records`` known so far and
    return their new ones for the driver to append.
    """

    kind: str
    config: dict[str, Any]
    cell: Cell
    teachers: str
    threads: int = 1
    store: str | None = None
    records: tuple[Record, ...] = field(default=())

    @property
    def label(self) -> str:
        """What progress displays."""
        return f"teacher {Path(self.cell.dataset).stem}/{self.cell.seed}" if self.kind == "teacher" else self.cell.label


def execute(task: Task) -> list[Record]:
    """Run ``task`` in this process; return the records it wrote or should be written."""
    torch.set_num_threads(task.threads)
    quiet_transformers()
    config = GridConfig.from_dict(task.config)
    teacher = _teacher(config, task.cell, task.teachers)
    if task.kind == "teacher":
        return _subset_tables(config, task, teacher)
    if task.store is not None:
        store = ResultStore(task.store)
        return run_cell(config, task.cell, teacher, store.records(), store.append)
    return run_cell(config, task.cell, teacher, task.records)


def _teacher(config: GridConfig, cell: Cell, teachers: str) -> TabularGPT:
    folder = teacher_folder(teachers, cell.dataset, config.preset, cell.seed)
    bundle, _ = load_or_train(load_table(cell.dataset), TrainConfig(preset=config.preset, seed=cell.seed), folder)
    return bundle


def _subset_tables(config: GridConfig, task: Task, teacher: TabularGPT) -> list[Record]:
    """The teacher's subset tables the grid needs and the store lacks (appended there by a local worker)."""
    if not config.regret:
        return []
    store = ResultStore(task.store) if task.store is not None else None
    known = store.subset_lines() if store is not None else []
    have = {line["kind"] for line in known if (line["dataset"], line["seed"]) == (task.cell.dataset, task.cell.seed)}
    train, holdout = split_of(teacher, load_table(task.cell.dataset))
    tables = measure_tables(config, task.cell.dataset, task.cell.seed, teacher, train, holdout, have)
    if store is not None:
        for table in tables:
            store.append(table)
    return tables


def run_cell(
    config: GridConfig,
    cell: Cell,
    teacher: TabularGPT,
    known: Sequence[Record] = (),
    sink: Callable[[Record], None] | None = None,
) -> list[Record]:
    """Run ``cell`` from its last finished step in ``known``; pass each new record to ``sink``, return them all."""
    table = load_table(cell.dataset)
    train, holdout = split_of(teacher, table)
    states = {_state_key(r): r["state"] for r in known if (r["dataset"], r["seed"]) == (cell.dataset, cell.seed)}
    removed = _resume_from(cell, known)
    if removed is None:
        return []
    total = teacher.model.config.n_layer
    measure = _Measure(config, cell, teacher, train, holdout)
    strategy = _strategy(config, cell)
    seconds: list[float] = []

    def rank(model: Any, gone: tuple[int, ...], kept: tuple[int, ...]) -> Ranking:
        start = time.perf_counter()
        # a strategy that ranks for a known count (exhaustive) aims at half the layers, then one at a time
        remove = max(total // 2 - len(gone), 1) if strategy.needs_count else None
        context = RankContext(seed=cell.seed, loss_fn=measure.loss_fn, layers=LAYERS,
                              removed_fraction=len(gone) / total, remove=remove)
        ranking = strategy.rank(model, measure.batches, context)
        seconds.append(time.perf_counter() - start)
        return ranking

    new: list[Record] = []
    # the finished steps are replayed in one cut (original indices are positions in the intact teacher)
    for path_step in removal_path(teacher.model, rank, removed=removed, layers=LAYERS):
        gone, kept = list(path_step.removed), list(path_step.kept)
        key = (cell.dataset, cell.seed, tuple(sorted(gone)))
        state = states.get(key) or measure.state(path_step.model, gone, kept)
        states[key] = state
        ranking = path_step.ranking
        record = {"dataset": cell.dataset, "seed": cell.seed, "strategy": cell.strategy, "step": len(gone),
                  "layers": len(kept), "removed": gone, "kept": kept,
                  "keep": None if ranking is None else list(ranking.keep), "next": path_step.next,
                  "rank_seconds": seconds[-1] if ranking is not None else 0.0, "state": state}
        if sink is not None:
            sink(record)
        new.append(record)
        log.info("%s step %d: %d layers, quality %.4f, next %s", cell.label, len(gone), len(kept),
                 state["quality"], path_step.next)
    return new


def _resume_from(cell: Cell, known: Sequence[Record]) -> list[int] | None:
    """The original layers the cell's finished steps removed, in order; None if the whole cell is finished."""
    done = {r["step"]: r for r in known if cell_of(r) == cell}
    removed: list[int] = []
    step = 0
    while step in done and done[step]["next"] is not None:
        removed = [*done[step]["removed"], done[step]["next"]]
        step += 1
    return None if step in done else removed  # a finished last step (one layer left) ends the cell


def _state_key(record: Record) -> tuple[str, int, tuple[int, ...]]:
    return record["dataset"], record["seed"], tuple(sorted(record["removed"]))


def _strategy(config: GridConfig, cell: Cell) -> Strategy:
    """The cell's strategy, given the grid's bank (fusion banks only) and, held out, the cell's data set."""
    fusion_bank = getattr(strategy_class(cell.strategy), "bank_format", None) == "fusion"
    offered = {"bank": (config.bank or None) if fusion_bank else None,
               "exclude_datasets": sorted({cell.dataset, Path(cell.dataset).stem})}
    return get_strategy(cell.strategy, **applicable_options(cell.strategy, offered))


class _Measure:
    """Measures model states of one cell (one teacher, its splits and the calibration rows)."""

    def __init__(self, config: GridConfig, cell: Cell, teacher: TabularGPT, train: Any, holdout: Any) -> None:
        self.config, self.cell, self.teacher, self.train, self.holdout = config, cell, teacher, train, holdout
        self.loss_fn = tabular_loss_fn(teacher.codec)
        self.batches = calibration_batches(teacher.codec, train, config.calibration_rows, seed=cell.seed)
        # the references (real rows in the generator's place) are measured once, with the intact teacher
        self.eval_config = EvalConfig(seeds=config.quality_seeds, speed_rows=config.speed_rows, speed_repeats=3,
                                      ceiling=False, metrics=("quality", *config.metrics))

    def state(self, model: Any, removed: list[int], kept: list[int]) -> Record:
        start = time.perf_counter()
        torch.manual_seed(self.cell.seed)
        bundle = TabularGPT(model, self.teacher.codec)
        half = len(removed) == self.teacher.model.config.n_layer // 2
        if removed and self.config.quality_steps == "half" and not half:
            state = _unscored(bundle, self.holdout)
        else:
            eval_config = self.eval_config if removed else dataclasses.replace(self.eval_config, ceiling=True)
            state = _metrics(evaluate(bundle, self.train, self.holdout, eval_config))
        if not removed:
            batches = calibration_batches(self.teacher.codec, self.holdout, len(self.holdout), seed=0)
            state["oracle_impact"] = list(ablation_scores(model, batches, loss_fn=self.loss_fn, layers=LAYERS).raw)
        state["eval_seconds"] = time.perf_counter() - start
        if removed and self.config.distill and (self.config.distill_steps == "all" or half):
            state["distilled"] = self._distilled(model, kept)
        return state

    def _distilled(self, model: Any, kept: list[int]) -> Record:
        start = time.perf_counter()
        healed = distilled_student(self.config, self.cell.seed, self.teacher, self.train, model, kept)
        torch.manual_seed(self.cell.seed)
        metrics = _metrics(evaluate(healed, self.train, self.holdout, self.eval_config))
        return {**metrics, "distill_seconds": time.perf_counter() - start}


def _unscored(bundle: TabularGPT, holdout: Any) -> Record:
    """A state whose samples are not scored (``quality_steps`` half): the holdout NLL and the size only."""
    from fuseprune.tabular.loss import mean_row_nll

    nll = mean_row_nll(bundle.model, bundle.codec.encode(holdout), bundle.codec)
    unscored = ("quality", "quality_per_seed", "column_shapes", "column_pair_trends", "diagnostic", "rows_per_second")
    return {**dict.fromkeys(unscored), "holdout_nll": nll, "parameters": bundle.num_parameters}


def _metrics(record: Any) -> Record:
    keys = ("quality", "quality_per_seed", "column_shapes", "column_pair_trends", "diagnostic", "holdout_nll",
            "parameters", "bytes_on_disk", "rows_per_second")
    values = record.to_dict()
    state = {key: list(values[key]) if isinstance(values[key], tuple) else values[key] for key in keys}
    if values["ceiling"] is not None:
        state["ceiling"] = values["ceiling"]
    extra = {name: figure for name, figure in values["metrics"].items() if figure["metric"] != "quality"}
    if extra:  # figures of the grid's other metrics, each with its spread (and, at step 0, its reference)
        state["metrics"] = extra
    return state
