"""Compression beyond depth: methods planned, then applied, recorded in a JSON plan.

- :data:`COMPRESSIONS`: the methods by name (``depth``, ``sparsity``, ``svd``,
  ``tucker``, ``tt``, ``int8``), each with a frozen options dataclass, a
  ``plan(model, options, context) -> Step`` and an ``apply(model, step)``.
- :class:`CompressionPlan`: the steps in order, as JSON;
  :func:`make_compression_plan` plans a sequence of requests,
  :func:`apply_plan` replays a plan on a copy of a bundle.
"""

from __future__ import annotations

# Importing the method modules registers them.
from fuseprune.compress import depth, lowrank, quant, sparsity, tensorized  # noqa: F401
from fuseprune.compress.base import COMPRESSIONS, TARGETS, Method, MethodOptions, PlanContext, nonzero_parameters
from fuseprune.compress.depth import DepthOptions
from fuseprune.compress.lowrank import SVDOptions
from fuseprune.compress.modules import LowRankLinear, TTLinear, TuckerLinear
from fuseprune.compress.plan import (
    CompressionPlan,
    Step,
    apply_plan,
    apply_to_model,
    make_compression_plan,
    recorded_plan,
)
from fuseprune.compress.quant import Int8Options
from fuseprune.compress.sparsity import SparsityOptions
from fuseprune.compress.tensorized import TensorOptions

__all__ = [
    "COMPRESSIONS",
    "TARGETS",
    "CompressionPlan",
    "DepthOptions",
    "Int8Options",
    "LowRankLinear",
    "Method",
    "MethodOptions",
    "PlanContext",
    "SVDOptions",
    "SparsityOptions",
    "Step",
    "TTLinear",
    "TensorOptions",
    "TuckerLinear",
    "apply_plan",
    "apply_to_model",
    "make_compression_plan",
    "nonzero_parameters",
    "recorded_plan",
]
