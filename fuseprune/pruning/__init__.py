"""Pruning: decide which layers to remove (make_plan -> PrunePlan), then remove them (apply_plan).

- :func:`make_plan`: rank the layers with a strategy
  (any signal, ``random``, ``ablation`` or a registered strategy), one-shot or
  iterative, for a layer count, a percentage or a parameter budget.
- :class:`PrunePlan`: versioned JSON (``plan.schema.json``) with the model's
  fingerprint; ``save`` is atomic, ``load`` checks every field.
- :func:`apply_plan`: real surgery on a copy of the model, refused when the
  fingerprint differs; :func:`save_pruned` writes a model folder atomically.

A TabularGPT is planned from table rows and pruned with
:func:`fuseprune.tabular.make_tabular_plan` and :func:`fuseprune.tabular.prune_tabular`.
"""

from __future__ import annotations

from fuseprune.pruning.fingerprint import ModelFingerprint, fingerprint_model
from fuseprune.pruning.plan import PLAN_MODES, SCHEMA_PATH, SCHEMA_VERSION, PrunePlan
from fuseprune.pruning.planner import MODES, PlanConfig, make_plan, make_plan_from_config
from fuseprune.pruning.strategies import (
    STRATEGIES,
    RankContext,
    Ranking,
    SignalStrategy,
    Strategy,
    TableStrategy,
    get_strategy,
    list_strategies,
    register_strategy,
)
from fuseprune.pruning.surgery import PLAN_FILE, apply_plan, remove_layers, save_pruned
from fuseprune.pruning.targets import Target, protected_layers, removal_ranking

__all__ = [
    "MODES",
    "PLAN_FILE",
    "PLAN_MODES",
    "SCHEMA_PATH",
    "SCHEMA_VERSION",
    "STRATEGIES",
    "ModelFingerprint",
    "PlanConfig",
    "PrunePlan",
    "RankContext",
    "Ranking",
    "SignalStrategy",
    "Strategy",
    "TableStrategy",
    "Target",
    "apply_plan",
    "fingerprint_model",
    "get_strategy",
    "list_strategies",
    "make_plan",
    "make_plan_from_config",
    "protected_layers",
    "register_strategy",
    "remove_layers",
    "removal_ranking",
    "save_pruned",
]
