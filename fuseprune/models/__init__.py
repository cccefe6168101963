"""Architecture adapters: where each model keeps its layer stack and how to skip layers."""

from __future__ import annotations

from fuseprune.models.adapters import LayerAdapter, SkippedLayer, get_adapter
from fuseprune.models.architectures import ARCHITECTURES, OBJECTIVES, ArchitectureSpec, supported_architectures
from fuseprune.models.cache import cache_argument, cache_kwargs, output_cache

__all__ = [
    "ARCHITECTURES",
    "OBJECTIVES",
    "ArchitectureSpec",
    "LayerAdapter",
    "SkippedLayer",
    "cache_argument",
    "cache_kwargs",
    "get_adapter",
    "output_cache",
    "supported_architectures",
]
