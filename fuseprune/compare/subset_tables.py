"""The reference distributions regret is read against: every subset of a teacher's layers, measured once.

With ``--regret`` the teacher task of each (data set, seed) writes, before any
cell runs, one line per table to ``subsets.jsonl`` in the results folder::

    {"dataset", "seed", "kind": "holdout", "rows": n, "losses": {"0-3-5": loss, ...}}
    {"dataset", "seed", "kind": "distilled", "rows": n, "losses": {...}}

``holdout`` holds the mean loss per target token on (at most ``regret_rows``)
holdout rows with each subset of every size 1..L-1 removed, without healing:
every state of every cell is one of them. ``distilled`` holds, when the grid
distils, the holdout NLL per row of ``distill_subsets`` random subsets of half
the layers after the grid's short distillation; the cells' own distilled
students at that step join it in the report, so their regret after healing is
read against the same recipe. The holdout is the report's measure, never a
strategy's input (strategies see calibration rows from the training split).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from fuseprune.app_config import GridConfig
from fuseprune.pruning.subsets import Subset, subset_losses, subsets_of
from fuseprune.pruning.surgery import remove_layers
from fuseprune.tabular import TabularGPT, tabular_loss_fn
from fuseprune.tabular.loss import mean_row_nll
from fuseprune.tabular.scoring import calibration_batches

LAYERS = "transformer.h"
Tables = dict[tuple[str, int], dict[str, dict[Subset, float]]]


def subset_key(subset: Iterable[int]) -> str:
    """The JSON key of a subset: its layers ascending, joined by ``-`` (``""`` for none)."""
    return "-".join(str(layer) for layer in sorted(subset))


def parse_key(key: str) -> Subset:
    """The subset of a JSON key written by :func:`subset_key`."""
    return tuple(int(part) for part in key.split("-")) if key else ()


def half_sample(num_layers: int, count: int, seed: int) -> list[Subset]:
    """``count`` distinct random subsets of half the layers (all of them if there are fewer), seeded."""
    every = subsets_of(num_layers, [num_layers // 2])
    return sorted(random.Random(seed).sample(every, min(count, len(every))))


def measure_tables(config: GridConfig, dataset: str, seed: int, teacher: TabularGPT, train: pd.DataFrame,
                   holdout: pd.DataFrame, have: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The tables of (``dataset``, ``seed``) the grid needs and ``have`` (kinds already stored) lacks."""
    total = teacher.model.config.n_layer
    rows = min(len(holdout), config.regret_rows)
    tables = []
    if "holdout" not in have:
        batches = calibration_batches(teacher.codec, holdout, rows, seed=0)
        losses = subset_losses(teacher.model, batches, subsets_of(total, range(1, total)),
                               loss_fn=tabular_loss_fn(teacher.codec), layers=LAYERS)
        tables.append(_line(dataset, seed, "holdout", rows, losses))
    if config.distill and "distilled" not in have:
        sample = half_sample(total, config.distill_subsets, seed)
        losses = {subset: distilled_nll(config, seed, teacher, train, holdout, subset) for subset in sample}
        tables.append(_line(dataset, seed, "distilled", len(holdout), losses))
    return tables


def distilled_student(config: GridConfig, seed: int, teacher: TabularGPT, train: pd.DataFrame,
                      model: Any, kept: Sequence[int]) -> TabularGPT:
    """``model`` (the teacher without some layers; ``kept`` its original indices) after the grid's distillation."""
    from fuseprune.distill import DistillConfig
    from fuseprune.tabular.distill import distill_tabular

    student = TabularGPT(copy.deepcopy(model), teacher.codec)
    distill = DistillConfig(max_epochs=config.distill_epochs, seed=seed)
    healed, _ = distill_tabular(student, teacher, train, distill, layer_map=list(kept))
    return healed


def distilled_nll(config: GridConfig, seed: int, teacher: TabularGPT, train: pd.DataFrame, holdout: pd.DataFrame,
                  removed: Subset) -> float:
    """Holdout NLL per row of the teacher without ``removed``, after the grid's distillation."""
    kept = [layer for layer in range(teacher.model.config.n_layer) if layer not in removed]
    model = remove_layers(teacher.model, removed, layers=LAYERS)
    healed = distilled_student(config, seed, teacher, train, model, kept)
    return mean_row_nll(healed.model, teacher.codec.encode(holdout), teacher.codec)


def _line(dataset: str, seed: int, kind: str, rows: int, losses: Mapping[Subset, float]) -> dict[str, Any]:
    return {"dataset": dataset, "seed": seed, "kind": kind, "rows": rows,
            "losses": {subset_key(subset): float(loss) for subset, loss in losses.items()}}


def read_tables(lines: Iterable[Mapping[str, Any]]) -> Tables:
    """(data set, seed) -> kind -> {subset: loss}, from the lines of ``subsets.jsonl`` (a later line wins)."""
    tables: Tables = {}
    for line in lines:
        losses = {parse_key(key): float(value) for key, value in line["losses"].items()}
        tables.setdefault((line["dataset"], int(line["seed"])), {})[line["kind"]] = losses
    return tables
