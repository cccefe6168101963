"""Building a fusion bank: follow the ablation oracle's pruning path on many teachers, recording everything.

For every (data set, seed) a teacher is trained (or reused from the teacher
cache). Then, step by step until two layers remain: score every layer of the
current model with every signal on calibration rows from the training split,
measure each layer's impact (the increase in holdout NLL when it alone is
skipped), write one bank row per layer, and remove the layer the oracle picks
(the one with the smallest impact; on a tie the later layer, the rule of
every removal path). Following the oracle's iterative path
covers both fresh models (step 0, what one-shot plans see) and partly pruned
ones (what iterative plans see).

The bank is saved after every finished (data set, seed), so an interrupted
build resumes where it stopped. Banks are built from TabularGPT teachers, so
this lives with the tabular app; the bank itself (:class:`~fuseprune.fusion.FusionBank`)
and the fusion models are the engine's.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from fuseprune.app_config import DEFAULT_BANK_DATASETS as DEFAULT_BANK_DATASETS
from fuseprune.app_config import BankConfig as BankConfig
from fuseprune.data import load_table
from fuseprune.errors import DataError
from fuseprune.fusion.bank import FusionBank, state_rows
from fuseprune.outputs import BANK, check_file
from fuseprune.progress import Progress, or_null
from fuseprune.pruning.fingerprint import weights_sha256
from fuseprune.pruning.removal import removal_path
from fuseprune.pruning.strategies import Ranking
from fuseprune.scoring import ablation_scores
from fuseprune.tabular.cache import load_or_train, teacher_folder
from fuseprune.tabular.loss import tabular_loss_fn
from fuseprune.tabular.model import TabularGPT
from fuseprune.tabular.scoring import calibration_batches, score_tabular
from fuseprune.tabular.train import TrainConfig, split_of

log = logging.getLogger(__name__)

def build_bank(config: BankConfig, out: str | Path, progress: Progress | None = None,
               overwrite: bool = False) -> FusionBank:
    """Build (or resume) the bank at ``out`` and return it.

    An existing ``out`` must be a bank built with the same options, which is
    resumed; with ``overwrite`` any existing regular file is replaced by a new bank.

    Raises:
        OutputError: ``out`` cannot be written (checked before any work).
        DataError: ``out`` is not a bank, or one built with other options.
    """
    progress = or_null(progress)
    for dataset in config.datasets:  # a table that cannot be read is refused before any teacher is trained
        load_table(dataset)
    out = check_file(out, BANK, overwrite=True)  # the path; the content is checked by _resume
    bank = None if overwrite else _resume(out, config)
    done = set() if bank is None else set(zip(bank.frame["dataset"], bank.frame["seed"], strict=True))
    cells = [(d, s) for d in config.datasets for s in config.seeds]
    progress.start("building the fusion bank", len(cells))
    for dataset, seed in cells:
        if (dataset, seed) not in done:
            rows = oracle_path_rows(dataset, seed, config)
            frame = rows if bank is None else pd.concat([bank.frame, rows], ignore_index=True)
            bank = FusionBank(frame, {**config.provenance(), "command": " ".join(sys.argv[1:]) or "build_bank"})
            bank.save(out, overwrite=True)
        progress.advance(1, cell=f"{dataset}/{seed}")
    progress.stop()
    if bank is None:
        raise DataError("the bank has no rows: give at least one data set and one seed.")
    return bank


def _resume(out: str | Path, config: BankConfig) -> FusionBank | None:
    if not Path(out).is_file():
        return None
    try:
        bank = FusionBank.load(out)
    except DataError as exc:
        raise DataError(f"{str(exc).rstrip('.')}; pick another output file, or pass --overwrite to start a new "
                        "bank there.") from None
    for key in ("preset", "calibration_rows"):
        if bank.meta.get(key) != getattr(config, key):
            raise DataError(
                f"{str(out)!r} was built with {key}={bank.meta.get(key)!r}, not {getattr(config, key)!r}; "
                "pick another output file or the same options, or pass --overwrite to start a new bank there."
            )
    log.info("resuming %s: %d rows already there", out, len(bank.frame))
    return bank


def oracle_path_rows(dataset: str, seed: int, config: BankConfig) -> pd.DataFrame:
    """Bank rows of one teacher along the ablation oracle's removal path.

    The path is :func:`~fuseprune.pruning.removal.removal_path` ranked by the
    measured impact (the smallest goes first; on a tie, the later layer).
    """
    table = load_table(dataset)
    folder = teacher_folder(config.teachers, dataset, config.preset, seed)
    teacher, _ = load_or_train(table, TrainConfig(preset=config.preset, seed=seed), folder)
    train, holdout = split_of(teacher, table)
    holdout_batches = calibration_batches(teacher.codec, holdout, n_rows=len(holdout), batch_size=256)
    loss_fn, total = tabular_loss_fn(teacher.codec), teacher.model.config.n_layer
    frames: list[pd.DataFrame] = []

    def measure(model: Any, removed: tuple[int, ...], kept: tuple[int, ...]) -> Ranking:
        """Score the state, measure each layer's impact, record the state's rows; rank by the impact."""
        state = TabularGPT(model, teacher.codec)
        scores = score_tabular(state, train, None, n_rows=config.calibration_rows, seed=seed)
        impact = ablation_scores(model, holdout_batches, loss_fn=loss_fn).raw
        keep = {s.name: s.keep for s in scores}
        frames.append(state_rows(dataset, seed, len(removed), kept, keep, impact, total,
                                 weights_sha256(model.state_dict())))
        return Ranking(keep=impact)  # a larger loss increase: more important

    path = [step.next for step in removal_path(teacher.model, measure) if step.next is not None]
    log.info("%s seed %d: oracle removal order %s", dataset, seed, path)
    return pd.concat(frames, ignore_index=True)
