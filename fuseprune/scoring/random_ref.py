"""The ``random`` reference: a seeded uniform score per layer (the baseline every strategy must beat)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from fuseprune.models.adapters import LayerAdapter
from fuseprune.progress import Progress
from fuseprune.scoring.base import LossFn, Reference, register_reference
from fuseprune.scoring.scores import LayerScores


def random_scores(num_layers: int, seed: int = 0) -> LayerScores:
    """Return ``num_layers`` uniform [0, 1) draws from ``numpy.random.default_rng(seed)``."""
    values = np.random.default_rng(seed).random(num_layers)
    return LayerScores(name="random", family="reference", goal="maximize", raw=tuple(values), reference=True)


@register_reference("random")
class RandomReference(Reference):
    """Seeded random layer scores; ignores the data and the model's weights."""

    goal = "maximize"
    needs_data = False
    description = "seeded uniform random score per layer (baseline)"

    def score(
        self,
        adapter: LayerAdapter,
        batches: Iterable[Mapping[str, Any]],
        *,
        seed: int = 0,
        loss_fn: LossFn | None = None,
        progress: Progress | None = None,
    ) -> LayerScores:
        """Return seeded random scores for the adapter's layers."""
        return random_scores(adapter.num_layers, seed)
