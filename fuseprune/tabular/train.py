"""Training a TabularGPT: AdamW, warm-up and cosine decay, early stopping on validation loss."""

from __future__ import annotations

import copy
import functools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import torch
from torch import nn

from fuseprune.config import LoopConfig
from fuseprune.data.table import DEFAULT_HOLDOUT, Table, split_frame
from fuseprune.progress import Progress, or_null
from fuseprune.tabular.codec import TableCodec
from fuseprune.tabular.loss import masked_token_nll, mean_row_nll
from fuseprune.tabular.model import PRESETS, TabularGPT, build_model

log = logging.getLogger(__name__)


_FROM_PRESET = " (default: the preset's recipe)"


@dataclass(frozen=True)
class TrainConfig(LoopConfig):
    """How a TabularGPT is trained (the loop settings are :class:`~fuseprune.config.LoopConfig`'s).

    Loop settings left as None are taken from the preset's training recipe
    (:attr:`~fuseprune.tabular.ModelPreset.training`), so ``TrainConfig(preset="seed")``
    trains the 43M-parameter model the way that size needs; values given explicitly win.
    After construction every field holds a concrete value.
    """

    preset: str = field(default="default", metadata={"help": "model size and training recipe: tiny, default or seed"})
    max_epochs: int | None = field(default=None, metadata={"help": "upper bound on passes over the training rows" + _FROM_PRESET})
    batch_size: int | None = field(default=None, metadata={"help": "rows per optimisation step" + _FROM_PRESET})
    learning_rate: float | None = field(default=None, metadata={"help": "peak AdamW learning rate" + _FROM_PRESET})
    weight_decay: float | None = field(default=None, metadata={"help": "AdamW weight decay" + _FROM_PRESET})
    warmup_fraction: float | None = field(default=None, metadata={"help": "fraction of steps with linear warm-up" + _FROM_PRESET})
    patience: int | None = field(default=None, metadata={"help": "epochs without validation improvement before stopping" + _FROM_PRESET})
    max_minutes: float | None = field(default=None, metadata={"help": "wall-clock budget in minutes, 0 = none" + _FROM_PRESET})
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
    codec: TableCodec | None = None,
    progress: Progress | None = None,
) -> tuple[TabularGPT, TrainHistory]:
    """Fit a codec (unless given) and train a TabularGPT on ``train`` rows.

    The best model by validation loss (mean NLL per row, nats) is returned.
    """
    config = config or TrainConfig()
    codec = codec or TableCodec.fit(train, kinds)
    fit_rows, val_rows = split_frame(train, config.validation_fraction, config.seed)
    fit_ids, val_ids = codec.encode(fit_rows), codec.encode(val_rows)
    model = build_model(codec, config.preset, seed=config.seed)
    history = _fit(model, fit_ids, val_ids, codec, config, or_null(progress))
    info = {"preset": config.preset, "train_config": config.to_dict(), "history": history.__dict__}
    return TabularGPT(model.eval(), codec, info), history


def _fit(model, fit_ids, val_ids, codec: TableCodec, config: TrainConfig, progress: Progress) -> TrainHistory:
    generator = torch.Generator().manual_seed(config.seed)
    steps_per_epoch = math.ceil(len(fit_ids) / config.batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = _warmup_cosine(optimizer, steps_per_epoch * config.max_epochs, config.warmup_fraction)
    history, best_state, best, shown = TrainHistory(), None, math.inf, {}
    start = time.perf_counter()
    progress.start("training", config.max_epochs)
    for epoch in range(config.max_epochs):
        _train_epoch(model, fit_ids[torch.randperm(len(fit_ids), generator=generator)], codec, config,
                     (optimizer, scheduler), functools.partial(progress.advance, 0, **shown))
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


def _train_epoch(
    model: nn.Module, shuffled: torch.Tensor, codec: TableCodec, config: TrainConfig,
    optim: tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler], report: Callable[..., None],
) -> None:
    """One pass over ``shuffled`` rows; ``report(step=..., loss=...)`` after every optimisation step."""
    optimizer, scheduler = optim
    model.train()
    batches = shuffled.split(config.batch_size)
    for step, batch in enumerate(batches, 1):
        loss = masked_token_nll(model(input_ids=batch[:, :-1]).logits, batch, codec).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        report(step=f"{step}/{len(batches)}", loss=loss.item())


def _stop_reason(history: TrainHistory, epoch: int, config: TrainConfig, seconds: float) -> str:
    """Why training stops after ``epoch`` (0-based), or ``running``.

    The time budget is kept, not overrun: training stops when one more epoch
    of the mean length so far would end past it.
    """
    if epoch - history.best_epoch >= config.patience:
        return "early_stopping"
    if epoch + 1 == config.max_epochs:
        return "max_epochs"
    if config.max_minutes and seconds * (epoch + 2) / (epoch + 1) > 60 * config.max_minutes:
        return "time_budget"
    return "running"


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
    bundle.info["data"] = {"source": table.name, "holdout": holdout, "split_seed": split_seed, "kinds": table.kinds}
    return bundle


def split_of(bundle: TabularGPT, table: Table) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The (train, holdout) split ``bundle`` was trained with, applied to ``table``."""
    bundle.codec.check_columns(table.frame)
    data = bundle.info.get("data", {})
    return table.split(data.get("holdout", DEFAULT_HOLDOUT), data.get("split_seed", 0))
