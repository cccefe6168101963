"""Resumable training checkpoints, written without pickle.

A checkpoint is one folder replaced atomically after every epoch:

- ``student.safetensors``: the model's current weights (the name dates from
  distillation, the first loop that resumed; kept so older checkpoints resume);
- ``best.safetensors``: the weights with the best validation NLL so far;
- ``optimizer.safetensors``: the optimizer's per-parameter tensors (``"<param>.<name>"``);
- ``state.json``: run fingerprint, finished epochs, history, the optimizer's
  parameter groups and scalar state, and the learning-rate scheduler's state.

Randomness needs no saved state when the loop reseeds shuffling and dropout
at the start of every epoch (:class:`~fuseprune.training.schedule.EpochShuffle`).
:class:`FolderCheckpoints` is the loop's checkpoint hook for such a folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from fuseprune.errors import DataError
from fuseprune.files import write_json_atomic
from fuseprune.outputs import CHECKPOINT, output_folder, written_by_fuseprune

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
STATE_FILE, MODEL_FILE, BEST_FILE, OPTIMIZER_FILE = (
    "state.json", "student.safetensors", "best.safetensors", "optimizer.safetensors"
)

StateDict = dict[str, torch.Tensor]


@dataclass
class Checkpoint:
    """What a run needs to continue exactly where it stopped.

    Attributes:
        epochs_done: Number of finished epochs.
        history: The run's history as a dict.
        model: Current weights.
        best: Best weights so far.
        optimizer: Optimizer state dict.
        scheduler: Scheduler state dict.
    """

    epochs_done: int
    history: dict[str, Any]
    model: StateDict
    best: StateDict
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]


def weights_copy(model: nn.Module) -> StateDict:
    """A detached copy of the model's weights with no shared storage (safetensors refuses sharing)."""
    return {name: value.detach().clone().contiguous() for name, value in model.state_dict().items()}


def _hash_tensors(digest: Any, state: StateDict) -> None:
    for name in sorted(state):
        digest.update(name.encode())
        digest.update(state[name].detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())


def run_fingerprint(payload: dict[str, Any], frame: pd.DataFrame, *models: nn.Module) -> str:
    """SHA-256 of a JSON payload (config, layer map, codec), the rows and the models' weights."""
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    for model in models:
        _hash_tensors(digest, model.state_dict())
    return digest.hexdigest()


def _split_optimizer(state: dict[str, Any]) -> tuple[StateDict, dict[str, Any]]:
    tensors: StateDict = {}
    scalars: dict[str, dict[str, Any]] = {}
    for param, entries in state["state"].items():
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{param}.{name}"] = value.detach().clone().contiguous()
            else:
                scalars.setdefault(str(param), {})[name] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _join_optimizer(tensors: StateDict, meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        param, name = key.split(".", 1)
        state.setdefault(int(param), {})[name] = value
    for param, entries in meta["scalars"].items():
        state.setdefault(int(param), {}).update(entries)
    groups = [{k: tuple(v) if k == "betas" else v for k, v in group.items()} for group in meta["param_groups"]]
    return {"state": state, "param_groups": groups}


def save_checkpoint(folder: str | Path, fingerprint: str, checkpoint: Checkpoint, overwrite: bool = False) -> Path:
    """Replace ``folder`` atomically with ``checkpoint``.

    Raises:
        OutputError: ``folder`` is not a checkpoint fuseprune wrote (and not ``overwrite``).
    """
    folder = Path(folder)
    tensors, optimizer_meta = _split_optimizer(checkpoint.optimizer)
    state = {
        "schema_version": SCHEMA_VERSION,
        "fingerprint": fingerprint,
        "epochs_done": checkpoint.epochs_done,
        "history": checkpoint.history,
        "optimizer": optimizer_meta,
        "scheduler": checkpoint.scheduler,
    }
    with output_folder(folder, CHECKPOINT, overwrite) as tmp:
        save_file(checkpoint.model, str(tmp / MODEL_FILE))
        save_file(checkpoint.best, str(tmp / BEST_FILE))
        save_file(tensors, str(tmp / OPTIMIZER_FILE))
        write_json_atomic(tmp / STATE_FILE, state)
    log.debug("checkpoint after epoch %d written to %s", checkpoint.epochs_done, folder)
    return folder


def load_checkpoint(folder: str | Path, fingerprint: str) -> Checkpoint | None:
    """Read the checkpoint in ``folder`` if it belongs to the run ``fingerprint``, else None.

    Raises:
        DataError: The folder holds a checkpoint of this run that cannot be read.
    """
    path = Path(folder) / STATE_FILE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(
            f"checkpoint {str(path)!r} is not valid JSON ({exc.msg}); delete the folder to start over."
        ) from None
    if state.get("schema_version") != SCHEMA_VERSION or state.get("fingerprint") != fingerprint:
        log.warning("checkpoint in %s belongs to another run (config, data or models differ); starting over", folder)
        return None
    folder = Path(folder)
    optimizer = _join_optimizer(load_file(str(folder / OPTIMIZER_FILE)), state["optimizer"])
    return Checkpoint(
        epochs_done=int(state["epochs_done"]),
        history=state["history"],
        model=load_file(str(folder / MODEL_FILE)),
        best=load_file(str(folder / BEST_FILE)),
        optimizer=optimizer,
        scheduler=state["scheduler"],
    )


class FolderCheckpoints:
    """The training loop's checkpoint hook: one checkpoint folder of one run (see :func:`run_fingerprint`).

    Args:
        folder: The checkpoint folder; a checkpoint of another run found there is ignored (and replaced).
        fingerprint: What identifies the run (config, data, models).
        overwrite: Replace a folder that is not a checkpoint fuseprune wrote (at the first save).
    """

    def __init__(self, folder: str | Path, fingerprint: str, overwrite: bool = False) -> None:
        self.folder, self.fingerprint, self.overwrite = Path(folder), fingerprint, overwrite

    def load(self) -> Checkpoint | None:
        """The run's checkpoint, or None if the folder holds none of this run."""
        if not written_by_fuseprune(self.folder, CHECKPOINT):
            return None
        return load_checkpoint(self.folder, self.fingerprint)

    def save(self, checkpoint: Checkpoint) -> None:
        """Replace the folder with ``checkpoint``."""
        save_checkpoint(self.folder, self.fingerprint, checkpoint, self.overwrite)
        self.overwrite = False  # the folder is a checkpoint now
