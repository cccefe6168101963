"""Cached measurements of one teacher for the fusion design study (bench/fusion_study.py).

Per teacher folder, one JSON file under the cache root holds:
  - ``holdout``: holdout NLL of every subset of k = L/2 layers skipped (the regret table, never seen by a strategy);
  - ``train``: the same table on TABLE_ROWS training rows (what targets are built from);
  - ``train_small``: training-row loss of smaller subsets (for marginal-damage targets), filled on demand;
  - ``signals``: removed set -> every signal's keep scores of the model in that state (training rows).

Everything is computed lazily and saved after each new piece, so reruns are cheap.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import torch

from fuseprune.data import load_table
from fuseprune.pruning.subsets import subset_losses, subsets_of
from fuseprune.pruning.surgery import remove_layers
from fuseprune.scoring import list_signals, score_layers
from fuseprune.tabular import TabularGPT, split_of, tabular_loss_fn
from fuseprune.tabular.scoring import calibration_batches

LAYERS = "transformer.h"
TABLE_ROWS = 64


def key_of(subset: Any) -> str:
    """JSON key of a set of original layer indices."""
    return ",".join(str(i) for i in sorted(subset))


def subset_of(key: str) -> tuple[int, ...]:
    """The set of original layer indices a key names."""
    return tuple(int(i) for i in key.split(",")) if key else ()


class TeacherCache:
    """Lazily measured, JSON-cached facts about one teacher."""

    def __init__(self, folder: str | Path, dataset: str, seed: int, root: str | Path) -> None:
        self.folder, self.dataset, self.seed = Path(folder), dataset, seed
        self.path = Path(root) / f"{self.folder.name}.json"
        self.data: dict[str, Any] = json.loads(self.path.read_text()) if self.path.is_file() else {}
        self.data.setdefault("signals", {})
        self.data.setdefault("train_small", {})
        self._teacher: Any = None

    # -- the model, loaded only when something new must be measured
    def _load(self) -> None:
        if self._teacher is not None:
            return
        torch.set_num_threads(1)
        teacher = TabularGPT.load(self.folder)
        train, holdout = split_of(teacher, load_table(self.dataset))
        self._teacher = teacher
        self._loss = tabular_loss_fn(teacher.codec)
        self._train = calibration_batches(teacher.codec, train, 256, seed=self.seed)
        # the training-row subset tables (targets only) use fewer rows: 924 subsets on two shared cores
        self._train_table = calibration_batches(teacher.codec, train, TABLE_ROWS, seed=self.seed)
        self._holdout = calibration_batches(teacher.codec, holdout, min(len(holdout), 512), seed=0)
        config = teacher.model.config
        self.data.update(n_layer=config.n_layer, n_embd=config.n_embd, holdout_rows=len(holdout))

    def save(self) -> None:
        """Write the cache atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(self.data))
        os.replace(tmp, self.path)

    @property
    def n_layer(self) -> int:
        """Layer count of the teacher."""
        if "n_layer" not in self.data:
            self._load()
            self.save()
        return int(self.data["n_layer"])

    @property
    def n_embd(self) -> int:
        """Hidden size of the teacher."""
        if "n_embd" not in self.data:
            self._load()
            self.save()
        return int(self.data["n_embd"])

    def table(self, which: str) -> dict[tuple[int, ...], float]:
        """Loss of every k = L/2 subset skipped, on ``holdout`` or ``train`` rows."""
        if which not in self.data:
            self._load()
            n = self.n_layer
            batches = self._holdout if which == "holdout" else self._train_table
            start = time.time()
            losses = subset_losses(self._teacher.model, batches, subsets_of(n, [n // 2]), loss_fn=self._loss,
                                   layers=LAYERS)
            self.data[which] = {key_of(s): v for s, v in losses.items()}
            self.data[f"{which}_seconds"] = time.time() - start
            self.save()
        return {subset_of(k): v for k, v in self.data[which].items()}

    def small(self, subsets: list[tuple[int, ...]]) -> dict[tuple[int, ...], float]:
        """Training-row loss of the given subsets skipped (any size)."""
        missing = [s for s in subsets if key_of(s) not in self.data["train_small"]]
        if missing:
            self._load()
            losses = subset_losses(self._teacher.model, self._train_table, missing, loss_fn=self._loss,
                                   layers=LAYERS)
            self.data["train_small"].update({key_of(s): v for s, v in losses.items()})
            self.save()
        return {tuple(sorted(s)): self.data["train_small"][key_of(s)] for s in subsets}

    def signals(self, removed: tuple[int, ...]) -> dict[str, list[float]]:
        """Every signal's keep scores of the model with ``removed`` cut (layer order of the kept layers)."""
        key = key_of(removed)
        if key not in self.data["signals"]:
            self._load()
            model = self._teacher.model
            if removed:
                model = remove_layers(model, sorted(removed), layers=LAYERS)
            table = score_layers(model, self._train, list_signals(), seed=self.seed, loss_fn=self._loss,
                                 layers=LAYERS)
            self.data["signals"][key] = {s.name: [float(v) for v in s.keep] for s in table}
            self.save()
        return self.data["signals"][key]
