"""Strategic fusion: learn one layer ranking from all signals, validated leave-one-dataset-out."""

from __future__ import annotations

from fuseprune.fusion.bank import FusionBank
from fuseprune.fusion.forest import ForestFusion
from fuseprune.fusion.linear import LinearFusion
from fuseprune.fusion.strategy import DEFAULT_BANK, FUSION_STRATEGIES, FusionOptions, FusionStrategy
from fuseprune.fusion.validate import FUSIONS, ValidationResult, validate

__all__ = [
    "DEFAULT_BANK",
    "FUSIONS",
    "FUSION_STRATEGIES",
    "ForestFusion",
    "FusionBank",
    "FusionOptions",
    "FusionStrategy",
    "LinearFusion",
    "ValidationResult",
    "validate",
]
