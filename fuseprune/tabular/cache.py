"""Reusing trained teachers: a model folder is reused only if it was trained exactly as asked."""

from __future__ import annotations

import logging
from pathlib import Path

from fuseprune.data.table import DEFAULT_HOLDOUT, Table
from fuseprune.errors import FusepruneError
from fuseprune.progress import Progress
from fuseprune.tabular.model import TabularGPT
from fuseprune.tabular.train import TrainConfig, train_on_table

log = logging.getLogger(__name__)


def teacher_folder(root: str | Path, dataset: str, preset: str, seed: int) -> Path:
    """Where the teacher cache keeps the model of (data set, preset, seed); a CSV path is named by its stem."""
    return Path(root) / f"{Path(dataset).stem}-{preset}-seed{seed}"


def load_or_train(
    table: Table,
    config: TrainConfig,
    folder: str | Path,
    *,
    holdout: float = DEFAULT_HOLDOUT,
    split_seed: int = 0,
    retrain: bool = False,
    progress: Progress | None = None,
) -> tuple[TabularGPT, bool]:
    """Return the model in ``folder`` if it matches, else train one and save it there.

    A saved model matches when it records the same data source, split and
    training configuration. Returns the model and whether it was reused.
    """
    folder = Path(folder)
    bundle = None if retrain else _matching(folder, table.name, config, holdout, split_seed)
    if bundle is not None:
        log.info("reusing the model in %s", folder)
        return bundle, True
    bundle = train_on_table(table, config, holdout=holdout, split_seed=split_seed, progress=progress)
    bundle.save(folder)
    return bundle, False


def _matching(folder: Path, source: str, config: TrainConfig, holdout: float, split_seed: int) -> TabularGPT | None:
    if not (folder / "config.json").is_file():
        return None
    try:
        bundle = TabularGPT.load(folder)
    except FusepruneError as exc:
        log.warning("not reusing %s: %s", folder, exc)
        return None
    data = bundle.info.get("data", {})
    same_data = (data.get("source"), data.get("holdout"), data.get("split_seed")) == (source, holdout, split_seed)
    same_training = bundle.info.get("train_config") == config.to_dict()
    return bundle if same_data and same_training else None
