"""Paired head-to-head statistics: is one strategy (or model) really better than another?

Two sets of values paired by unit (a data set and seed, say) are compared
through their differences, signed so that positive means the first is better:

- a two-sided Wilcoxon signed-rank test of the differences (exact for small
  samples; zero differences are dropped), and
- a 95 % percentile bootstrap confidence interval of the mean difference
  (``RESAMPLES`` resamples of the pairs, seeded).

The verdict is ``better`` or ``worse`` only when both agree: the test's
p-value is below ``ALPHA`` and the interval excludes zero on that side.
Otherwise it is ``tie``. With fewer than six pairs the exact test cannot
reach p < 0.05 (all six differences of one sign give p = 2 / 2^6 = 0.031), so
a handful of seeds never makes a claim.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

ALPHA = 0.05
RESAMPLES = 2000
VERDICTS = ("better", "worse", "tie")


@dataclass(frozen=True)
class PairedComparison:
    """The first of two paired value sets against the second.

    Attributes:
        n: Pairs where both values exist.
        mean_difference: Mean of first - second, signed so positive = first better.
        low: Lower end of the 95 % bootstrap interval of the mean difference.
        high: Its upper end.
        p_value: Two-sided Wilcoxon signed-rank p-value (1 if every difference is zero).
        verdict: ``better``, ``worse`` or ``tie`` (the first relative to the second).
    """

    n: int
    mean_difference: float
    low: float
    high: float
    p_value: float
    verdict: str

    def text(self) -> str:
        """``better (p=0.003, n=16)`` and the like."""
        if self.n == 0:
            return "tie (no pairs)"
        return f"{self.verdict} (p={self.p_value:.3g}, n={self.n})"


def paired_comparison(
    first: pd.Series,
    second: pd.Series,
    higher_is_better: bool = True,
    *,
    alpha: float = ALPHA,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> PairedComparison:
    """Compare ``first`` with ``second``, paired by index; pairs with a missing value are dropped."""
    both = pd.concat([first.rename("a"), second.rename("b")], axis=1, join="inner").dropna()
    differences = (both["a"] - both["b"]).to_numpy(dtype=float) * (1.0 if higher_is_better else -1.0)
    if len(differences) == 0:
        return PairedComparison(0, math.nan, math.nan, math.nan, 1.0, "tie")
    low, high = bootstrap_interval(differences, resamples, seed)
    p_value = wilcoxon_p(differences)
    verdict = "tie"
    if p_value < alpha and low > 0:
        verdict = "better"
    elif p_value < alpha and high < 0:
        verdict = "worse"
    return PairedComparison(len(differences), float(differences.mean()), low, high, p_value, verdict)


def bootstrap_interval(differences: np.ndarray, resamples: int = RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """The 95 % percentile bootstrap interval of the mean of ``differences`` (pairs resampled with replacement)."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(differences), size=(resamples, len(differences)))
    means = differences[picks].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def wilcoxon_p(differences: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value of ``differences`` (zeros dropped; 1 if nothing is left)."""
    from scipy.stats import wilcoxon

    nonzero = differences[differences != 0]
    if len(nonzero) == 0:
        return 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns that small samples use the exact distribution
        return float(wilcoxon(nonzero, alternative="two-sided").pvalue)
