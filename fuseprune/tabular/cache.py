"""Reusing trained teachers: a model folder is reused only if it was trained exactly as asked.

A saved model matches when it records the same table content (the sha256 of
its columns, kinds and rows: see :attr:`fuseprune.data.Table.sha256`), the same
split and the same training configuration. Where the table came from does not
count: the same rows under another file name reuse the model, and changed rows
under the same name retrain it. Every refusal to reuse is logged with its
reason.
"""

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
    """Return the model in ``folder`` if it matches (see the module docstring), else train one and save it there.

    Returns the model and whether it was reused.
    """
    folder = Path(folder)
    bundle = None if retrain else _matching(folder, table, config, holdout, split_seed)
    if bundle is not None:
        log.info("reusing the model in %s (same table content, split and training)", folder)
        return bundle, True
    bundle = train_on_table(table, config, holdout=holdout, split_seed=split_seed, progress=progress)
    bundle.save(folder)
    return bundle, False


def _matching(folder: Path, table: Table, config: TrainConfig, holdout: float, split_seed: int) -> TabularGPT | None:
    if not (folder / "config.json").is_file():
        return None
    try:
        bundle = TabularGPT.load(folder)
    except FusepruneError as exc:
        log.warning("not reusing %s: %s", folder, exc)
        return None
    reason = mismatch(bundle.info, table, config, holdout, split_seed)
    if reason is None:
        return bundle
    log.warning("retraining the model in %s: %s", folder, reason)
    return None


def mismatch(info: dict, table: Table, config: TrainConfig, holdout: float, split_seed: int) -> str | None:
    """Why a model with this ``info`` (its ``fuseprune.json``) cannot stand for one trained now; None if it can."""
    data = info.get("data", {})
    if not data.get("sha256"):
        return "it does not record a hash of its table's content"
    if data["sha256"] != table.sha256:
        return (f"the content of {table.name!r} (rows, columns or kinds) differs from the table it was trained on "
                f"({data.get('source')!r}; sha256 {data['sha256'][:12]} there, {table.sha256[:12]} now)")
    if (data.get("holdout"), data.get("split_seed")) != (holdout, split_seed):
        return (f"it was split with holdout {data.get('holdout')} and seed {data.get('split_seed')}, "
                f"not {holdout} and {split_seed}")
    if info.get("train_config") != config.to_dict():
        return "it was trained with other training options"
    return None
