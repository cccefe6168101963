"""What one worker does: measure the teacher, or build, heal and measure one candidate of a compression search.

A candidate is a sequence of compression requests (method, options) in
:data:`~fuseprune.explore.config.ORDER`. Its trainable steps are planned and
applied to the teacher first, then healed by a bounded distillation (the
preset's recipe, capped at the search's epochs and minutes), then the steps
that cannot be trained (int8) are planned and applied to the healed model.
Steps whose zeros healing fills in again (sparsity) are applied once more
after healing, so the healed model keeps its sparsity. The healed model is
kept only if its loss on the distillation's validation rows (carved from the
training rows, never the holdout) is below the unhealed model's: on few rows a
lightly compressed model can only be moved away from its teacher.

Each task returns one record::

    {"candidate", "steps", "order", "healed", "heal", "quality", "quality_std", "quality_per_seed",
     "diagnostic", "holdout_nll", "parameters", "nonzero_parameters", "bytes_on_disk",
     "rows_per_second", "teacher_rows_per_second", "speed_runs", "teacher_speed_runs",
     "speed_batch_size", "threads", "kept", "seconds"}

Rows/s of the candidate and of the teacher are timed in alternating runs in
the same process, at the same batch size, so their ratio holds even when the
machine's load changes between candidates. Bytes on disk are those of the saved
folder (safetensors and the JSON manifest). A candidate whose quality reaches
the target is kept in the results folder's ``models/``.
"""

from __future__ import annotations

import logging
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from fuseprune.compress import CompressionPlan, PlanContext, apply_plan, apply_to_model, make_compression_plan
from fuseprune.compress.base import COMPRESSIONS, nonzero_parameters
from fuseprune.compress.plan import INFO_KEY
from fuseprune.errors import ModelError
from fuseprune.explore.config import ExploreConfig
from fuseprune.explore.grid import TEACHER, Candidate
from fuseprune.explore.store import CandidateStore
from fuseprune.files import directory_bytes
from fuseprune.outputs import MARKER
from fuseprune.presets import distill_config, preset_of
from fuseprune.progress import quiet_transformers
from fuseprune.tabular import TabularGPT, split_of, tabular_loss_fn
from fuseprune.tabular.compressed import save_compressed
from fuseprune.tabular.evaluation import EvalConfig, evaluate
from fuseprune.tabular.sampler import default_batch_size, sample_ids
from fuseprune.tabular.scoring import calibration_batches

log = logging.getLogger(__name__)
Record = dict[str, Any]
#: Methods whose zeros a distillation fills in again: their steps are applied once more after healing.
REAPPLIED = ("sparsity",)


@dataclass(frozen=True)
class Task:
    """A unit of work for a backend: measure the teacher (``candidate`` None) or one candidate.

    ``teacher_quality`` (the teacher's record's quality) decides whether a candidate is kept.
    """

    config: dict[str, Any]
    folder: str
    candidate: Candidate | None = None
    teacher_quality: float | None = None
    threads: int = 1

    @property
    def label(self) -> str:
        """What progress displays."""
        return TEACHER if self.candidate is None else self.candidate.name


def execute(task: Task) -> list[Record]:
    """Run ``task`` in this process; return its one record."""
    torch.set_num_threads(task.threads)
    quiet_transformers()
    config = ExploreConfig.from_dict(task.config)
    teacher = TabularGPT.load(config.model, verify=False)
    train, holdout = split_of(teacher, load_teacher_table(teacher, config.data))
    if task.candidate is None:
        record = measure_teacher(config, teacher, train, holdout)
    else:
        store = CandidateStore(task.folder)
        record = measure_candidate(config, task.candidate, teacher, train, holdout, store, task.teacher_quality)
    return [{**record, "threads": task.threads}]


def load_teacher_table(teacher: TabularGPT, data: str) -> Any:
    """The table ``data``, read with the options the teacher records when it is the teacher's own table."""
    from fuseprune.data import ReadOptions, load_table

    record = teacher.info.get("data", {})
    if data != record.get("source"):
        return load_table(data)
    read = ReadOptions.from_dict(record.get("read"))
    return load_table(data, dict(read.column_types), delimiter=read.delimiter, drop_columns=read.drop_columns)


def measure_teacher(config: ExploreConfig, teacher: TabularGPT, train: Any, holdout: Any) -> Record:
    """The teacher's record: quality (with its reference), size, and rows/s timed alone."""
    start = time.perf_counter()
    record = quality_of(config, teacher, train, holdout, ceiling=True)
    batch = speed_batch(config, teacher)
    runs = timed_runs(config, [teacher], batch)[0]
    rate = statistics.median(runs)
    return {"candidate": TEACHER, "steps": [], "order": [], "healed": False, "heal": None, **record,
            "nonzero_parameters": nonzero_parameters(teacher.model), "bytes_on_disk": saved_bytes(teacher, None),
            "rows_per_second": rate, "teacher_rows_per_second": rate, "speed_runs": runs, "teacher_speed_runs": runs,
            "speed_batch_size": batch, "kept": False, "seconds": time.perf_counter() - start}


def measure_candidate(config: ExploreConfig, candidate: Candidate, teacher: TabularGPT, train: Any, holdout: Any,
                      store: CandidateStore, teacher_quality: float | None) -> Record:
    """Build, heal and measure ``candidate``; keep its folder in ``store`` if it reaches the target."""
    start = time.perf_counter()
    bundle, plan, heal = build(config, candidate, teacher, train)
    record = quality_of(config, bundle, train, holdout, ceiling=False)
    batch = speed_batch(config, teacher)
    runs, teacher_runs = timed_runs(config, [bundle, teacher], batch)
    passing = teacher_quality is not None and record["quality"] >= config.target_quality * teacher_quality
    size = saved_bytes(bundle, plan, store.model_folder(candidate.name) if passing else None)
    return {"candidate": candidate.name, "steps": plan.to_dict()["steps"], "order": list(plan.order),
            "healed": heal["epochs"] > 0, "heal": heal, **record,
            "nonzero_parameters": nonzero_parameters(bundle.model), "bytes_on_disk": size,
            "rows_per_second": statistics.median(runs), "teacher_rows_per_second": statistics.median(teacher_runs),
            "speed_runs": runs, "teacher_speed_runs": teacher_runs, "speed_batch_size": batch, "kept": passing,
            "seconds": time.perf_counter() - start}


def build(config: ExploreConfig, candidate: Candidate, teacher: TabularGPT,
          train: Any) -> tuple[TabularGPT, CompressionPlan, Record]:
    """The compressed model, the plan of all its steps, and what healing did (``epochs`` 0: none)."""
    requests = list(candidate.requests())
    split = next((i for i, (name, _) in enumerate(requests) if not COMPRESSIONS.get(name).trainable), len(requests))
    context = PlanContext(batches=calibration_batches(teacher.codec, train, seed=0),
                          loss_fn=tabular_loss_fn(teacher.codec))
    first = make_compression_plan(teacher.model, requests[:split], context) if split else CompressionPlan()
    bundle = apply_plan(teacher, first) if split else teacher
    bundle, heal = heal_model(config, bundle, teacher, train, first)
    rest = make_compression_plan(bundle.model, requests[split:], context) if split < len(requests) else None
    if rest is not None:
        bundle = apply_plan(bundle, rest)
    plan = CompressionPlan(first.steps + (rest.steps if rest is not None else ()))
    # one record of every step in order (two apply_plan calls would record the second with the first as previous)
    bundle.info[INFO_KEY] = {"order": list(plan.order), "steps": plan.to_dict()["steps"]}
    return bundle, plan, heal


def heal_model(config: ExploreConfig, student: TabularGPT, teacher: TabularGPT, train: Any,
               plan: CompressionPlan) -> tuple[TabularGPT, Record]:
    """``student`` after a bounded distillation from ``teacher``, or as it is if it cannot be healed (``note``)."""
    from fuseprune.tabular.distill import distill_tabular

    heal: Record = {"epochs": 0, "seconds": 0.0, "note": None}
    if not plan.steps or config.heal_epochs == 0:
        heal["note"] = "no trainable step" if not plan.steps else "healing off (--heal-epochs 0)"
        return student, heal
    start = time.perf_counter()
    recipe = distill_config(preset_of(teacher.model.config, teacher.info.get("preset")),
                            max_epochs=config.heal_epochs, max_minutes=config.heal_minutes)
    try:
        healed, history = distill_tabular(student, teacher, train, recipe)
    except ModelError as exc:  # a student the distiller does not take (e.g. as many layers as the teacher)
        log.info("not healing: %s", exc)
        heal["note"] = f"not healed: {exc}"
        return student, heal
    again = CompressionPlan(tuple(step for step in plan.steps if step.method in REAPPLIED))
    if again.steps:
        apply_to_model(healed.model, again, inplace=True)
    healed.info = student.info | {"distill": healed.info.get("distill")}
    before, after = (validation_nll(bundle, train, recipe.validation_fraction, recipe.seed)
                     for bundle in (student, healed))
    heal.update(epochs=len(history.val_loss), best_epoch=history.best_epoch, stopped=history.stopped,
                val_loss=after, unhealed_val_loss=before, seconds=time.perf_counter() - start)
    if not after < before:  # e.g. a lightly sparsified model: distillation on few rows only moves it away
        heal.update(epochs=0, epochs_run=len(history.val_loss),
                    note=f"healing raised the validation loss ({before:.4f} -> {after:.4f} nats per row); kept the "
                         "unhealed model")
        return student, heal
    return healed, heal


def validation_nll(bundle: TabularGPT, train: Any, fraction: float, seed: int) -> float:
    """Mean NLL per row (nats) of ``bundle`` on the validation rows the distillation carves from ``train``."""
    from fuseprune.data.table import split_frame
    from fuseprune.tabular.loss import mean_row_nll

    _, rows = split_frame(train, fraction, seed)
    with torch.inference_mode():
        return mean_row_nll(bundle.model, bundle.codec.encode(rows), bundle.codec)


def speed_batch(config: ExploreConfig, teacher: TabularGPT) -> int:
    """The batch every model samples at: the search's, else the sampler's default for the teacher."""
    return config.batch_size or default_batch_size(teacher.model, teacher.codec.sequence_length)


def timed_runs(config: ExploreConfig, bundles: list[TabularGPT], batch: int) -> list[list[float]]:
    """Rows/s of each bundle's sampling runs, timed in alternating rounds after one warm-up each."""
    rows = config.speed_rows or batch
    for bundle in bundles:
        sample_ids(bundle.model, bundle.codec, min(rows, batch), seed=0, batch_size=batch)
    runs: list[list[float]] = [[] for _ in bundles]
    for repeat in range(config.speed_repeats):
        for index, bundle in enumerate(bundles):
            start = time.perf_counter()
            sample_ids(bundle.model, bundle.codec, rows, seed=repeat, batch_size=batch)
            runs[index].append(rows / (time.perf_counter() - start))
    return runs


def quality_of(config: ExploreConfig, bundle: TabularGPT, train: Any, holdout: Any, *, ceiling: bool) -> Record:
    """SDMetrics quality and the holdout loss from the evaluation record (its own speed run kept short)."""
    eval_config = EvalConfig(seeds=config.quality_seeds, speed_rows=1, speed_repeats=1, ceiling=ceiling,
                             batch_size=config.batch_size, metrics=("quality",))
    torch.manual_seed(0)
    values = evaluate(bundle, train, holdout, eval_config).to_dict()
    keys = ("quality", "quality_std", "quality_per_seed", "column_shapes", "column_pair_trends", "diagnostic",
            "ceiling", "holdout_nll", "parameters")
    return {key: list(values[key]) if isinstance(values[key], tuple) else values[key] for key in keys}


def saved_bytes(bundle: TabularGPT, plan: CompressionPlan | None, keep: Path | None = None) -> int:
    """Bytes of the saved folder (without fuseprune's marker); the folder is moved to ``keep`` if given."""
    where = None if keep is None else keep.parent.parent  # the results folder: the kept copy is a rename away
    with tempfile.TemporaryDirectory(prefix=".candidate.", suffix=".tmp", dir=where) as tmp:
        folder = Path(tmp) / "model"
        if plan is None:
            bundle.save(folder)
        else:
            save_compressed(bundle, folder, plan)
        size = directory_bytes(folder, keep=lambda p: p.name != MARKER)
        if keep is not None:
            if keep.exists():
                shutil.rmtree(keep)  # a copy left by a worker killed before its record was written
            keep.parent.mkdir(parents=True, exist_ok=True)
            folder.rename(keep)
    return size

