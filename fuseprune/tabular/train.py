"""Training a TabularGPT: AdamW, warm-up and cosine decay, early stopping on validation loss."""

from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import torch

from fuseprune.config import LoopConfig
from fuseprune.data.table import DEFAULT_HOLDOUT, Table, split_frame
from fuseprune.errors import DataError
from fuseprune.progress import Progress, or_null
from fuseprune.tabular.codec import TableCodec
from fuseprune.tabular.interface import Codec
from fuseprune.tabular.loss import masked_token_nll, mean_row_nll
from fuseprune.tabular.model import PRESETS, TabularGPT, seeded_model

log = logging.getLogger(__name__)


_FROM_PRESET = " (default: the preset's recipe)"


@dataclass(frozen=True)
class TrainConfig(LoopConfig):
    """How a TabularGPT is trained (the loop settings are :class:`~fuseprune.config.LoopConfig`'s).

    Loop settings left as None are taken from the preset's training recipe
    (:attr:`~fuseprune.presets.ModelPreset.training`), so ``TrainConfig(preset="seed")``
    trains the 43M-parameter model the way that size needs; values given explicitly win.
    After construction every field holds a concrete value.
    """

    preset: str = field(default="default", metadata={"help": "model size and training recipe: tiny, default or seed"})
    max_epochs: int | None = field(default=None, metadata={"help": "upper bound on passes over the training rows" + _FROM_PRESET})  # type: ignore[assignment]
    batch_size: int | None = field(default=None, metadata={"help": "rows per optimisation step" + _FROM_PRESET})  # type: ignore[assignment]
    learning_rate: float | None = field(default=None, metadata={"help": "peak AdamW learning rate" + _FROM_PRESET})  # type: ignore[assignment]
    weight_decay: float | None = field(default=None, metadata={"help": "AdamW weight decay" + _FROM_PRESET})  # type: ignore[assignment]
    warmup_fraction: float | None = field(default=None, metadata={"help": "fraction of steps with linear warm-up" + _FROM_PRESET})  # type: ignore[assignment]
    patience: int | None = field(default=None, metadata={"help": "epochs without validation improvement before stopping" + _FROM_PRESET})  # type: ignore[assignment]
    max_minutes: float | None = field(default=None, metadata={"help": "wall-clock budget in minutes, checked after every step, 0 = none" + _FROM_PRESET})  # type: ignore[assignment]
    seed: int = field(default=0, metadata={"help": "seed of initialisation, shuffling and the validation split"})

    def __post_init__(self) -> None:
        self._fill(PRESETS.get(self.preset).training)
        super().__post_init__()


@dataclass
class TrainHistory:
    """What happened during training: validation loss per epoch, best epoch, time."""

    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0
    stopped: str = "max_epochs"


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
        history = _fit(model, fit_ids, val_ids, codec, config, or_null(progress))
    info = {"preset": config.preset, "train_config": config.to_dict(), "history": history.__dict__}
    return TabularGPT(model.eval(), codec, info), history


def _fit(model, fit_ids, val_ids, codec: Codec, config: TrainConfig, progress: Progress) -> TrainHistory:
    generator = torch.Generator().manual_seed(config.seed)
    steps_per_epoch = math.ceil(len(fit_ids) / config.batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = _warmup_cosine(optimizer, steps_per_epoch * config.max_epochs, config.warmup_fraction)
    history, best_state, best, shown = TrainHistory(), None, math.inf, {}
    start = time.perf_counter()
    deadline = start + 60 * config.max_minutes if config.max_minutes else math.inf
    progress.start("training", config.max_epochs)
    for epoch in range(config.max_epochs):
        model.train()
        batches = torch.randperm(len(fit_ids), generator=generator).split(config.batch_size)
        for step, index in enumerate(batches, 1):
            batch = fit_ids[index]
            loss = masked_token_nll(model(input_ids=batch[:, :-1]).logits, batch, codec).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            progress.advance(0, **shown, step=f"{step}/{len(batches)}", loss=loss.item())  # an epoch of `seed` is long
            if time.perf_counter() >= deadline:  # the budget ends mid-epoch: validate what there is, then stop
                break
        val = mean_row_nll(model, val_ids, codec)
        history.val_loss.append(val)
        if val < best:
            best, history.best_epoch, best_state = val, epoch, copy.deepcopy(model.state_dict())
        shown = {"val_loss": val, "best": best}
        progress.advance(1, **shown)
        history.stopped = _stop_reason(history, epoch, config, time.perf_counter() - start)
        if history.stopped != "running":
            break
    progress.stop()
    history.seconds = time.perf_counter() - start
    model.load_state_dict(best_state)
    log.info("trained %d epochs in %.1fs; best validation NLL %.4f at epoch %d (%s)",
             len(history.val_loss), history.seconds, best, history.best_epoch, history.stopped)
    return history


def _stop_reason(history: TrainHistory, epoch: int, config: TrainConfig, seconds: float) -> str:
    if epoch - history.best_epoch >= config.patience:
        return "early_stopping"
    if config.max_minutes and seconds >= 60 * config.max_minutes:
        return "time_budget"
    return "max_epochs" if epoch + 1 == config.max_epochs else "running"


def _warmup_cosine(optimizer: torch.optim.Optimizer, total: int, warmup_fraction: float):
    warmup = max(1, int(total * warmup_fraction))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


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
