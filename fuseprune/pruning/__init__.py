"""Pruning: decide which layers to remove (make_plan -> PrunePlan), then remove them (apply_plan).

- :func:`make_plan`: rank the layers with a strategy
  (any signal, ``random``, ``ablation`` or a registered strategy), one-shot or
  iterative, for a layer count, a percentage or a parameter budget.
- :func:`get_strategy` builds a strategy by name with its options;
  :func:`removal_path` is the one loop that removes a layer, re-ranks and maps
  positions back to original indices (plans, the fusion bank and comparisons).
- :class:`PrunePlan`: versioned JSON (``plan.schema.json``) with the model's
  fingerprint; ``save`` is atomic, ``load`` checks every field.
- :func:`apply_plan`: real surgery on a copy of the model, refused when the
  fingerprint differs; :func:`save_pruned` writes a model folder atomically.

A TabularGPT is planned from table rows and pruned with
:func:`fuseprune.tabular.make_tabular_plan` and :func:`fuseprune.tabular.prune_tabular`.
"""

from __future__ import annotations

# Importing baselines registers the built-in strategies tail, head and exhaustive.
from fuseprune.pruning import baselines  # noqa: F401
from fuseprune.pruning.fingerprint import ModelFingerprint, fingerprint_model
from fuseprune.pruning.plan import PLAN_MODES, SCHEMA_PATH, SCHEMA_VERSION, PrunePlan
from fuseprune.pruning.planner import (
    MODES,
    PlanConfig,
    make_plan,
    make_plan_from_config,
)
from fuseprune.pruning.registry import (
    STRATEGIES,
    applicable_options,
    get_strategy,
    list_strategies,
    register_strategy,
    registered_strategies,
    strategy_options,
)
from fuseprune.pruning.removal import RemovalStep, removal_path
from fuseprune.pruning.strategies import (
    RankContext,
    Ranking,
    SignalStrategy,
    Strategy,
    StrategyOptions,
    TableStrategy,
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
    "RemovalStep",
    "SignalStrategy",
    "Strategy",
    "StrategyOptions",
    "TableStrategy",
    "Target",
    "applicable_options",
    "apply_plan",
    "fingerprint_model",
    "get_strategy",
    "list_strategies",
    "make_plan",
    "make_plan_from_config",
    "protected_layers",
    "register_strategy",
    "registered_strategies",
    "removal_path",
    "removal_ranking",
    "remove_layers",
    "save_pruned",
    "strategy_options",
]
