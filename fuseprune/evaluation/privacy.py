"""Privacy by distance to closest record (DCR): are synthetic rows closer to training rows than fresh rows are?

Rows are points in the mixed-type encoding (:mod:`fuseprune.evaluation.encoding`,
fitted on the real training rows; Euclidean distances).

- ``dcr_share``: for each synthetic row, which real rows are nearest? Its
  credit is the share of training rows among the real rows tied at the
  smallest distance (within 1e-9), so 1 if only training rows are nearest, 0 if
  only holdout rows are. With ``S`` the mean credit, ``n_T`` training and
  ``n_H`` holdout rows, the figure is ``S n_H / (S n_H + (1 - S) n_T)``: the
  share as if both sets had the same size. Rows the generator could not have
  memorised score 50 % on average, however many ties (both sets are drawn from
  the same table at random); a generator that copies training rows scores
  100 %. The reference splits the holdout in two halves at random and scores
  one half against the training rows and the other half.
- ``dcr_p5``: the 5th percentile of each synthetic row's distance to its
  nearest training row; the reference is the same for the holdout rows
  (close to 0 on tables whose real rows repeat).
- ``copy_share``: the share of synthetic rows at distance 0 from a training
  row (exact copies); the reference is the holdout's own share.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist

from fuseprune.evaluation.encoding import MixedEncoding
from fuseprune.evaluation.metric import Figure, Metric, RealRows, register_metric

TIE = 1e-9
CHUNK = 256


def nearest_distances(queries: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Each query's distance to its nearest point (exact Euclidean, in chunks)."""
    return np.concatenate([cdist(queries[i:i + CHUNK], points).min(axis=1) for i in range(0, len(queries), CHUNK)])


def dcr_share(queries: np.ndarray, train: np.ndarray, holdout: np.ndarray) -> float:
    """Size-corrected share of queries whose nearest real rows are training rows (see the module docstring)."""
    credit = []
    for i in range(0, len(queries), CHUNK):
        to_train, to_holdout = cdist(queries[i:i + CHUNK], train), cdist(queries[i:i + CHUNK], holdout)
        nearest = np.minimum(to_train.min(axis=1), to_holdout.min(axis=1))[:, None] + TIE
        tied_train, tied_holdout = (to_train <= nearest).sum(axis=1), (to_holdout <= nearest).sum(axis=1)
        credit.append(tied_train / (tied_train + tied_holdout))
    mean = float(np.concatenate(credit).mean())
    n_train, n_holdout = len(train), len(holdout)
    return mean * n_holdout / (mean * n_holdout + (1 - mean) * n_train)


def _distance_figures(queries: np.ndarray, train: np.ndarray) -> dict[str, float]:
    distances = nearest_distances(queries, train)
    return {"dcr_p5": float(np.percentile(distances, 5)), "copy_share": float(np.mean(distances <= TIE))}


@register_metric
class PrivacyMetric(Metric):
    """Distance to closest record: the share closer to training rows, the 5th percentile, exact copies."""

    name = "privacy"
    rank = 50
    description = "distance to closest record: share nearer training than holdout rows, 5th percentile, copies"
    figures = (
        Figure("dcr_share", "DCR: share nearer training rows", "target", 0.0, 1.0, 0.5),
        Figure("dcr_p5", "DCR: 5th percentile", "maximize", 0.0, np.inf),
        Figure("copy_share", "exact copies of training rows", "minimize", 0.0, 1.0),
    )

    def compute(self, real: RealRows, synthetic: pd.DataFrame, seed: int) -> dict[str, float]:
        """The three figures of ``synthetic`` rows."""
        encoding = MixedEncoding(real.train, real.kinds)
        train, holdout = encoding.transform(real.train), encoding.transform(real.holdout)
        points = encoding.transform(synthetic)
        return {"dcr_share": dcr_share(points, train, holdout), **_distance_figures(points, train)}

    def reference(self, real: RealRows, n_rows: int, seed: int) -> dict[str, float]:
        """Real rows the generator never saw: holdout halves for the share, the holdout for the rest."""
        encoding = MixedEncoding(real.train, real.kinds)
        train, holdout = encoding.transform(real.train), encoding.transform(real.holdout)
        order = np.random.default_rng(seed).permutation(len(holdout))
        half = len(holdout) // 2
        share = dcr_share(holdout[order[half:]], train, holdout[order[:half]])
        return {"dcr_share": share, **_distance_figures(holdout, train)}
