"""Training a TabularGPT on table rows with the engine's loop (:mod:`fuseprune.training`).

The step is one AdamW step on the codec-masked next-token NLL (gradients
clipped at 1.0); the validation loss is the mean NLL per row of a seeded
``validation_fraction`` of the training rows; rows are reshuffled every epoch
by one generator seeded with the config's seed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd
import torch

from fuseprune.app_config import TrainConfig as TrainConfig
from fuseprune.data.table import DEFAULT_HOLDOUT, Table, split_frame
from fuseprune.errors import DataError
from fuseprune.progress import Progress
from fuseprune.tabular.codec import TableCodec
from fuseprune.tabular.interface import Codec
from fuseprune.tabular.loss import masked_token_nll, mean_row_nll
from fuseprune.tabular.model import TabularGPT, seeded_model
from fuseprune.training import LoopHistory, RunShuffle, TrainingLoop, optimizer_step

log = logging.getLogger(__name__)


@dataclass
class TrainHistory(LoopHistory):
    """What happened during training: validation NLL per row after every epoch, best epoch, time, stop reason."""

    shown: ClassVar[tuple[str, ...]] = ("best",)


def train_tabular(
    train: pd.DataFrame,
    config: TrainConfig | None = None,
    *,
    kinds: dict[str, str] | None = None,
    codec: Codec | None = None,
    progress: Progress | None = None,
) -> tuple[TabularGPT, TrainHistory]:
    """Fit a codec (unless given) and train a TabularGPT on ``train`` rows.

    The best model by validation loss (mean NLL per row, nats) is returned.
    """
    config = config or TrainConfig()
    codec = codec or TableCodec.fit(train, kinds)
    fit_rows, val_rows = split_frame(train, config.validation_fraction, config.seed)
    fit_ids, val_ids = codec.encode(fit_rows), codec.encode(val_rows)
    with torch.random.fork_rng():  # the caller's RNG is left as it was
        model = seeded_model(codec, config.preset, config.seed)  # dropout continues the initialisation's stream
        history = _fit(model, fit_ids, val_ids, codec, config, progress)
    info = {"preset": config.preset, "train_config": config.to_dict(), "history": history.to_dict()}
    return TabularGPT(model.eval(), codec, info), history


def _fit(model: torch.nn.Module, fit_ids: torch.Tensor, val_ids: torch.Tensor, codec: Codec, config: TrainConfig,
         progress: Progress | None) -> TrainHistory:
    """Train ``model`` in place with the engine's loop; it ends with the weights of its best epoch."""

    def step(rows: torch.Tensor, optimizer: torch.optim.Optimizer) -> dict[str, float]:
        batch = fit_ids[rows]
        loss = masked_token_nll(model(input_ids=batch[:, :-1]).logits, batch, codec).mean()
        optimizer_step(model, loss, optimizer, max_grad_norm=1.0)
        return {"loss": loss.item()}

    loop = TrainingLoop(model, config, rows=len(fit_ids), step=step,
                        validate=lambda: mean_row_nll(model, val_ids, codec), shuffle=RunShuffle(config.seed))
    return loop.run(TrainHistory(), progress, "training")


def train_on_table(
    table: Table,
    config: TrainConfig | None = None,
    *,
    holdout: float = DEFAULT_HOLDOUT,
    split_seed: int = 0,
    progress: Progress | None = None,
) -> TabularGPT:
    """Train on the training split of ``table`` and record the split in the model's info.

    The codec is fitted on the whole table: it learns only the value domain
    (categories, numeric ranges and precision), so held-out rows can always be
    encoded; the network sees the training rows only.
    """
    codec = TableCodec.fit(table.frame, table.kinds)
    train, _ = table.split(holdout, split_seed)
    bundle, _ = train_tabular(train, config, codec=codec, progress=progress)
    bundle.info["data"] = data_record(table, holdout, split_seed)
    return bundle


def data_record(table: Table, holdout: float, split_seed: int) -> dict[str, Any]:
    """What a model records about its table (``fuseprune.json`` ``data``): source, split, kinds, read options, hash."""
    return {"source": table.name, "holdout": holdout, "split_seed": split_seed, "kinds": table.kinds,
            "read": table.read.to_dict(), "sha256": table.sha256}


def split_of(bundle: TabularGPT, table: Table) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The (train, holdout) split ``bundle`` was trained with, applied to ``table``.

    Raises:
        DataError: ``table`` is the source the model records but its rows,
            columns or kinds changed since training (the holdout rows would
            not be the ones the model never saw).
    """
    bundle.codec.check_columns(table.frame)
    data = bundle.info.get("data", {})
    recorded = data.get("sha256")
    if recorded and recorded != table.sha256:
        if table.name == data.get("source"):
            raise DataError(
                f"table {table.name!r} is not what the model was trained on (its rows, columns or kinds changed: "
                "the sha256 differs), so its holdout rows may be training rows; restore it or train a new model."
            )
        log.info("%s is not the table the model was trained on; splitting it the same way", table.name)
    return table.split(data.get("holdout", DEFAULT_HOLDOUT), data.get("split_seed", 0))
