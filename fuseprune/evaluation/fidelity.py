"""Alpha-precision and beta-recall: the naive variant of Alaa et al. (2022), as TabSyn and TabDiff report it.

Rows are points in the mixed-type encoding (:mod:`fuseprune.evaluation.encoding`,
fitted on the real training rows); the real points are the holdout rows.
Both sets are cut to the same size (a seeded sample of the larger), as the
reference implementation requires. With ``alphas = linspace(0, 1, 30)`` and
``c`` the mean of the real points ("naive": no learned embedding):

- alpha-precision curve: the share of synthetic points within the alpha
  quantile of the real points' distances to ``c``;
- beta-recall curve: the share of real points whose nearest synthetic point
  is no farther than their nearest other real point and lies within the beta
  quantile of those nearest synthetic points' distances to the synthetic mean;
- each figure is ``1 - sum|alphas - curve| / sum(alphas)``: 1 when the curve
  follows the diagonal (synthetic rows fill the real support as densely as
  real rows do), lower when they crowd or miss parts of it.

Distances are Euclidean; nearest neighbours come from scikit-learn.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from fuseprune.evaluation.encoding import MixedEncoding
from fuseprune.evaluation.metric import Figure, Metric, RealRows, register_metric

STEPS = 30


def alpha_beta(real: np.ndarray, synthetic: np.ndarray, steps: int = STEPS) -> tuple[float, float]:
    """(alpha-precision, beta-recall) of equally many real and synthetic points (rows of two matrices)."""
    alphas = np.linspace(0, 1, steps)
    center = real.mean(axis=0)
    radii = np.quantile(np.linalg.norm(real - center, axis=1), alphas)
    synthetic_to_center = np.linalg.norm(synthetic - center, axis=1)
    real_to_real = _neighbours(real, real, 2)[0][:, 1]  # the nearest other real point (the first is itself)
    real_to_synthetic, nearest = (a[:, 0] for a in _neighbours(synthetic, real, 1))
    nearest_to_mean = np.linalg.norm(synthetic[nearest] - synthetic.mean(axis=0), axis=1)
    beta_radii = np.quantile(nearest_to_mean, alphas)
    precision = np.array([np.mean(synthetic_to_center <= r) for r in radii])
    recall = np.array([np.mean((real_to_synthetic <= real_to_real) & (nearest_to_mean <= r)) for r in beta_radii])
    return _delta(alphas, precision), _delta(alphas, recall)


def _delta(alphas: np.ndarray, curve: np.ndarray) -> float:
    return float(1 - np.abs(alphas - curve).sum() / alphas.sum())


def _neighbours(points: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Distances and indices of the ``k`` nearest ``points`` of each query (exact Euclidean, k-d tree)."""
    return NearestNeighbors(n_neighbors=k, algorithm="kd_tree").fit(points).kneighbors(queries)


@register_metric
class FidelityMetric(Metric):
    """Alpha-precision and beta-recall (naive) of synthetic rows against the holdout."""

    name = "fidelity"
    rank = 40
    description = "alpha-precision and beta-recall (naive variant of Alaa et al. 2022) against the holdout"
    figures = (
        Figure("alpha_precision", "alpha-precision", "maximize", 0.0, 1.0,
               1.0),
        Figure("beta_recall", "beta-recall", "maximize", 0.0, 1.0, 1.0),
    )

    def compute(self, real: RealRows, synthetic: pd.DataFrame, seed: int) -> dict[str, float]:
        """Both figures, on as many holdout as synthetic rows."""
        n = min(len(real.holdout), len(synthetic))
        if n < 3:
            return {}
        encoding = MixedEncoding(real.train, real.kinds)
        holdout = real.holdout.sample(n=n, random_state=seed) if len(real.holdout) > n else real.holdout
        synthetic = synthetic.sample(n=n, random_state=seed) if len(synthetic) > n else synthetic
        precision, recall = alpha_beta(encoding.transform(holdout), encoding.transform(synthetic))
        return {"alpha_precision": precision, "beta_recall": recall}
