"""Compressing a TabularGPT: apply a compression plan, save and load the result (no pickle).

:func:`fuseprune.compress.apply_plan` works on any bundle; these save and load
a TabularGPT folder whose network may hold factorised or int8 modules
(``compression.json`` beside the weights, see :mod:`fuseprune.compress.store`).
A depth-only or sparsity-only result is an ordinary GPT-2 folder that plain
transformers loads.
"""

from __future__ import annotations

from pathlib import Path

from fuseprune.compress.plan import INFO_KEY, CompressionPlan, recorded_plan
from fuseprune.errors import ConfigError
from fuseprune.tabular.model import TabularGPT


def save_compressed(bundle: TabularGPT, folder: str | Path, plan: CompressionPlan | None = None,
                    overwrite: bool = False) -> Path:
    """Save a compressed bundle; ``plan`` (if given) must be the one its ``info`` records.

    Raises:
        ConfigError: ``plan`` is not the plan the bundle went through.
        OutputError: ``folder`` may not be written.
    """
    if plan is not None and recorded_plan(bundle.info) != plan:
        raise ConfigError(f"the bundle's info[{INFO_KEY!r}] does not record this plan; compress it with "
                          "fuseprune.compress.apply_plan(bundle, plan) first.")
    return bundle.save(folder, overwrite=overwrite)


def load_compressed(folder: str | Path) -> TabularGPT:
    """Load a (compressed or plain) model folder: :meth:`TabularGPT.load`."""
    return TabularGPT.load(folder)
