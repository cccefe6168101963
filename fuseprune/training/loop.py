"""One training loop for every model fuseprune trains: teachers and distilled students.

:class:`TrainingLoop` owns what every run shares; the caller gives it a step
function (what one optimisation step on some rows is) and a validation loss:

- AdamW over the model's parameters, with linear warm-up and cosine decay over
  the whole epoch budget (:func:`~fuseprune.training.schedule.warmup_cosine`);
- epochs over the training rows, in the order the caller's shuffle picks
  (:class:`~fuseprune.training.schedule.RunShuffle` or
  :class:`~fuseprune.training.schedule.EpochShuffle`), ``batch_size`` rows a step;
- validation after every epoch, keeping the weights of the epoch with the lowest
  validation loss (the model ends with them);
- a wall-clock budget (``max_minutes``) checked after every step: a run that
  reaches it stops mid-epoch, validates what it has and ends;
- progress: one task of ``max_epochs`` steps, with the step and its loss as
  detail within an epoch;
- an optional checkpoint hook, loaded at the start and saved after every epoch:
  with an ``EpochShuffle`` a resumed run ends with the same weights as an
  uninterrupted one.

After every epoch the stop checks run in this order (:func:`stop_reason`), and
the first that holds ends the run:

1. ``early_stopping``: ``patience`` epochs have passed without a new best
   validation loss;
2. ``max_epochs``: the last epoch of the budget is done;
3. ``time_budget``: ``max_minutes`` have passed in this session.

The final reasons come first, so a run with nothing left to do says why it is
done; ``time_budget`` stops only a run with epochs left, which a resumed run
continues.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

import torch
from torch import nn

from fuseprune.config import LoopConfig
from fuseprune.progress import Progress, or_null
from fuseprune.training.checkpoint import Checkpoint, StateDict, weights_copy
from fuseprune.training.schedule import warmup_cosine

log = logging.getLogger(__name__)

#: ``step(rows, optimizer) -> figures``: one optimisation step on the training rows at indices ``rows``;
#: ``figures["loss"]`` is this step's loss, every figure is averaged per epoch (weighted by rows).
StepFn = Callable[[torch.Tensor, torch.optim.Optimizer], Mapping[str, float]]
H = TypeVar("H", bound="LoopHistory")


class Shuffle(Protocol):
    """The row order of every epoch."""

    def order(self, n_rows: int, epoch: int) -> torch.Tensor:
        """A permutation of ``range(n_rows)`` for ``epoch``."""


class Checkpoints(Protocol):
    """Where a run keeps its state between epochs (e.g. :class:`~fuseprune.training.checkpoint.FolderCheckpoints`)."""

    def load(self) -> Checkpoint | None:
        """The state a run resumes from, or None to start afresh."""

    def save(self, checkpoint: Checkpoint) -> None:
        """Keep the state after an epoch."""


@dataclass
class LoopHistory:
    """What happened in a run, one entry per epoch (JSON-ready); subclasses add fields.

    Attributes:
        val_loss: Validation loss after every epoch.
        best_epoch: Epoch of the weights the model ends with (lowest ``val_loss``).
        seconds: Wall-clock time over all sessions of the run.
        stopped: ``early_stopping``, ``max_epochs`` or ``time_budget`` (see :func:`stop_reason`);
            ``running`` until the run ends.
    """

    #: Step figures whose per-epoch means this history keeps, each in a list field of that name.
    kept: ClassVar[tuple[str, ...]] = ()
    #: Figures shown beside ``val_loss`` after each epoch: ``best`` (the best validation loss) or a step figure.
    shown: ClassVar[tuple[str, ...]] = ()

    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0
    stopped: str = "running"

    def to_dict(self) -> dict[str, Any]:
        """Return the history as a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls: type[H], payload: dict[str, Any]) -> H:
        """Rebuild a history from :meth:`to_dict` output."""
        return cls(**payload)

    def resumed(self, epochs_done: int) -> None:
        """Note that a run resumed after ``epochs_done`` epochs (a history that records it overrides this)."""

    def best_loss(self) -> float:
        """The lowest validation loss so far (inf before the first epoch or while every one was NaN)."""
        return min((value for value in self.val_loss if not math.isnan(value)), default=math.inf)


def stop_reason(history: LoopHistory, epoch: int, config: LoopConfig, seconds: float) -> str:
    """Why the run ends after ``epoch`` (0-based), checked in the documented order; ``running`` if it goes on.

    Args:
        history: The history, including ``epoch``.
        epoch: The epoch just finished.
        config: The loop settings (``patience``, ``max_epochs``, ``max_minutes``).
        seconds: Time spent in this session.
    """
    if epoch - history.best_epoch >= config.patience:
        return "early_stopping"
    if epoch + 1 >= config.max_epochs:
        return "max_epochs"
    return "time_budget" if config.max_minutes and seconds >= 60 * config.max_minutes else "running"


def optimizer_step(model: nn.Module, loss: torch.Tensor, optimizer: torch.optim.Optimizer,
                   max_grad_norm: float | None = None) -> None:
    """Zero the gradients, back-propagate ``loss``, clip the gradient norm (if given) and step ``optimizer``."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if max_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()


class TrainingLoop:
    """The loop of one run over one model (see the module docstring).

    Args:
        model: Trained in place; it ends with the weights of its best epoch.
        config: Epochs, batch size, learning rate, weight decay, warm-up, patience, time budget.
        rows: Number of training rows (the step function knows what they are).
        step: One optimisation step (:data:`StepFn`); :func:`optimizer_step` does its second half.
        validate: The model's validation loss as it is now (lower is better).
        shuffle: The row order of every epoch.
        checkpoints: Optional hook, loaded at the start and saved after every epoch.
    """

    def __init__(
        self, model: nn.Module, config: LoopConfig, *, rows: int, step: StepFn, validate: Callable[[], float],
        shuffle: Shuffle, checkpoints: Checkpoints | None = None,
    ) -> None:
        self.model, self.config, self.rows, self.step, self.validate = model, config, rows, step, validate
        self.shuffle, self.checkpoints = shuffle, checkpoints
        steps = math.ceil(rows / config.batch_size) * config.max_epochs
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate,
                                           weight_decay=config.weight_decay)
        self.scheduler = warmup_cosine(self.optimizer, steps, config.warmup_fraction)
        self.best_state: StateDict | None = None

    def run(self, history: H, progress: Progress | None = None, description: str = "training") -> H:
        """Train until a stop check holds; return the history (a resumed run's, if the hook had one).

        Args:
            history: A fresh history of the kind to return.
            progress: Receives one step per epoch, and each step's ``step`` and ``loss`` as detail.
            description: The progress task's name.
        """
        cfg, progress = self.config, or_null(progress)
        done, history = self._resume(history)
        history.stopped = "running" if history.stopped == "time_budget" else history.stopped
        self.best_state = self.best_state or weights_copy(self.model)
        started, before = time.perf_counter(), history.seconds
        deadline = started + 60 * cfg.max_minutes if cfg.max_minutes else math.inf
        progress.start(description, cfg.max_epochs)
        if done:
            progress.advance(done)
        shown: dict[str, float] = {}
        for epoch in range(done, cfg.max_epochs if history.stopped == "running" else done):
            means = self._epoch(epoch, deadline, functools.partial(progress.advance, 0, **shown))
            figures = {**means, "val_loss": self.validate()}
            self._record(history, epoch, figures)
            now = time.perf_counter()
            history.seconds = before + now - started
            history.stopped = stop_reason(history, epoch, cfg, now - started)
            if self.checkpoints is not None:
                self.checkpoints.save(self._checkpoint(history, epoch + 1))
            figures["best"] = history.best_loss()
            shown = {name: figures[name] for name in ("val_loss", *history.shown)}
            progress.advance(1, **shown)
            if history.stopped != "running":
                break
        progress.stop()
        self.model.load_state_dict(self.best_state)
        log.info("%s: %d epochs in %.1fs; best validation loss %.4f at epoch %d (%s)", description,
                 len(history.val_loss), history.seconds, history.best_loss(), history.best_epoch, history.stopped)
        return history

    def _epoch(self, epoch: int, deadline: float, report: Callable[..., None]) -> dict[str, float]:
        """One pass over the rows (cut short once ``deadline`` passes); the means of the step figures."""
        self.model.train()
        batches = self.shuffle.order(self.rows, epoch).split(self.config.batch_size)
        sums: dict[str, float] = {}
        seen = 0
        for number, rows in enumerate(batches, 1):
            figures = self.step(rows, self.optimizer)
            self.scheduler.step()
            seen += len(rows)
            for name, value in figures.items():
                sums[name] = sums.get(name, 0.0) + value * len(rows)
            report(step=f"{number}/{len(batches)}", loss=figures["loss"])
            if time.perf_counter() >= deadline:
                break
        return {name: value / max(seen, 1) for name, value in sums.items()}

    def _record(self, history: LoopHistory, epoch: int, figures: dict[str, float]) -> None:
        if figures["val_loss"] < history.best_loss():
            history.best_epoch, self.best_state = epoch, weights_copy(self.model)
        history.val_loss.append(figures["val_loss"])
        for name in history.kept:
            getattr(history, name).append(figures[name])

    def _resume(self, history: H) -> tuple[int, H]:
        checkpoint = self.checkpoints.load() if self.checkpoints is not None else None
        if checkpoint is None:
            return 0, history
        self.model.load_state_dict(checkpoint.model)
        self.optimizer.load_state_dict(checkpoint.optimizer)
        self.scheduler.load_state_dict(checkpoint.scheduler)
        self.best_state = checkpoint.best
        history = type(history).from_dict(checkpoint.history)
        history.resumed(checkpoint.epochs_done)
        log.info("resuming after epoch %d", checkpoint.epochs_done)
        return checkpoint.epochs_done, history

    def _checkpoint(self, history: LoopHistory, epochs_done: int) -> Checkpoint:
        return Checkpoint(
            epochs_done=epochs_done, history=history.to_dict(), model=weights_copy(self.model),
            best=self.best_state or weights_copy(self.model), optimizer=self.optimizer.state_dict(),
            scheduler=self.scheduler.state_dict(),
        )
