"""Strategic fusion: learn one layer ranking from all signals, validated leave-one-dataset-out."""

from __future__ import annotations

from fuseprune.fusion.bank import FusionBank
from fuseprune.fusion.forest import ForestFusion
from fuseprune.fusion.linear import LinearFusion
from fuseprune.fusion.validate import FUSIONS, ValidationResult, validate

__all__ = ["FUSIONS", "ForestFusion", "FusionBank", "LinearFusion", "ValidationResult", "validate"]
