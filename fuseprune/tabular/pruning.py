"""Pruning a TabularGPT: a plan from rows of its table (:func:`make_tabular_plan`), then the smaller bundle.

The engine's :func:`~fuseprune.pruning.make_plan` and
:func:`~fuseprune.pruning.apply_plan` do the work; this app module passes them
calibration batches from a frame and the codec-masked loss, and keeps the codec
and a record of the pruning with the pruned network.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, cast

import pandas as pd
from transformers import GPT2LMHeadModel

from fuseprune.progress import Progress
from fuseprune.pruning import PrunePlan, Strategy, apply_plan, make_plan
from fuseprune.tabular.loss import tabular_loss_fn
from fuseprune.tabular.model import TabularGPT
from fuseprune.tabular.scoring import (
    DEFAULT_CALIBRATION_BATCH,
    DEFAULT_CALIBRATION_ROWS,
    calibration_batches,
)


def make_tabular_plan(
    bundle: TabularGPT,
    frame: pd.DataFrame,
    strategy: str | Strategy,
    *,
    remove: int | float | str | None = None,
    max_params: int | None = None,
    mode: str = "one-shot",
    protect: str | Sequence[str | int] = (),
    seed: int = 0,
    n_rows: int = DEFAULT_CALIBRATION_ROWS,
    batch_size: int = DEFAULT_CALIBRATION_BATCH,
    progress: Progress | None = None,
) -> PrunePlan:
    """:func:`~fuseprune.pruning.make_plan` for a TabularGPT: calibration rows from ``frame``, the codec-masked loss.

    The calibration batches are a seeded sample of ``n_rows`` rows of ``frame``
    (as :func:`fuseprune.tabular.score_tabular` uses); pass the training split, or
    a holdout split for ``ablation``. The plan records ``calibration_rows`` and
    ``batch_size`` in its parameters.
    """
    batches = calibration_batches(bundle.codec, frame, n_rows, batch_size, seed)
    plan = make_plan(bundle.model, batches, strategy, remove=remove, max_params=max_params, mode=mode,
                     protect=protect, seed=seed, loss_fn=tabular_loss_fn(bundle.codec), progress=progress)
    calibration = {"calibration_rows": min(n_rows, len(frame)), "batch_size": batch_size}
    return replace(plan, parameters={**plan.parameters, **calibration})


def prune_tabular(bundle: TabularGPT, plan: PrunePlan) -> TabularGPT:
    """Return a new TabularGPT with the plan applied; the codec is kept and the plan recorded in ``info``.

    ``info["pruning"]`` holds :meth:`PrunePlan.summary` (removed layers and the
    kept -> teacher layer map); a previous record moves to ``["previous"]``.
    The input bundle is unchanged. Save the result with :meth:`TabularGPT.save`.
    """
    model = apply_plan(bundle.model, plan)
    info: dict[str, Any] = copy.deepcopy(bundle.info)
    summary = plan.summary()
    if "pruning" in info:
        summary["previous"] = info.pop("pruning")
    info["pruning"] = summary
    return TabularGPT(cast(GPT2LMHeadModel, model), bundle.codec, info)  # apply_plan returns the model it pruned

