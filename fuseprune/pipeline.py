"""The main job (`fuseprune run`): train or reuse a teacher on a table, then evaluate it.

Everything lands in one run folder::

    RUN/teacher/          the model folder (safetensors, config, codec, info)
    RUN/evaluation.json   the evaluation record
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fuseprune.config import ConfigMixin, check_range
from fuseprune.data import DEFAULT_DATASET, DEFAULT_HOLDOUT, load_table
from fuseprune.evaluation import EvalConfig, EvaluationRecord, evaluate
from fuseprune.progress import Progress
from fuseprune.tabular import TrainConfig, split_of
from fuseprune.tabular.cache import load_or_train


@dataclass(frozen=True)
class RunConfig(ConfigMixin):
    """What the main job does."""

    data: str = field(default=DEFAULT_DATASET, metadata={"help": "bundled data set name or CSV path"})
    preset: str = field(default="default", metadata={"help": "model size preset"})
    seed: int = field(default=0, metadata={"help": "training seed"})
    holdout: float = field(default=DEFAULT_HOLDOUT, metadata={"help": "fraction of rows held out for evaluation"})
    split_seed: int = field(default=0, metadata={"help": "seed of the train/holdout split"})
    out: str = field(default="runs/default", metadata={"help": "run folder"})
    retrain: bool = field(default=False, metadata={"help": "train a new teacher even if the run folder has one"})

    def __post_init__(self) -> None:
        check_range("holdout", self.holdout, 0.0, 1.0, low_open=True)


@dataclass(frozen=True)
class RunResult:
    """What the main job produced."""

    teacher_dir: Path
    reused_teacher: bool
    evaluation: EvaluationRecord


def run_main(config: RunConfig, progress: Progress | None = None) -> RunResult:
    """Train (or reuse) the teacher, evaluate it against the holdout and save the record."""
    table = load_table(config.data)
    train_config = TrainConfig(preset=config.preset, seed=config.seed)
    teacher_dir = Path(config.out) / "teacher"
    bundle, reused = load_or_train(
        table, train_config, teacher_dir, holdout=config.holdout, split_seed=config.split_seed,
        retrain=config.retrain, progress=progress,
    )
    train, holdout = split_of(bundle, table)
    record = evaluate(bundle, train, holdout, EvalConfig(), data_name=table.name, progress=progress)
    record.save(Path(config.out) / "evaluation.json")
    return RunResult(teacher_dir, reused, record)
