"""SDMetrics' privacy metrics against the real training rows (not in the default set: they are slow).

- ``dcr_baseline_protection``: SDMetrics ``DCRBaselineProtection``: the median
  distance from synthetic rows to their closest training row, divided by the
  same median for uniformly random rows, capped at 1 (SDMetrics' own DCR: the
  mean over columns of ``|difference| / range`` for numbers and 0/1 for
  categories). 1 = synthetic rows are as far from training rows as random
  ones; near 0 = they sit on top of training rows.
- ``new_row_synthesis``: SDMetrics ``NewRowSynthesis``: the share of synthetic
  rows that do not match any training row (numbers match within 1 % of the
  synthetic value, categories exactly).

The reference puts the holdout rows in the generator's place. Both metrics
compare every synthetic row with every training row in pandas, so they see at
most ``MAX_ROWS`` synthetic rows (a seeded sample) and the random baseline and
sample are seeded with the sampling seed.
"""

from __future__ import annotations

import warnings

import pandas as pd

from fuseprune.evaluation.frames import numpy_seed, plain_frame, plain_metadata
from fuseprune.evaluation.metric import Figure, Metric, RealRows, register_metric

MAX_ROWS = 500


def dcr_baseline_protection(train: pd.DataFrame, synthetic: pd.DataFrame, kinds, seed: int) -> float:
    """SDMetrics ``DCRBaselineProtection`` of ``synthetic`` rows against ``train`` rows, seeded."""
    from sdmetrics.single_table import DCRBaselineProtection

    class SeededDCRBaselineProtection(DCRBaselineProtection):
        _seed = seed

    with warnings.catch_warnings(), numpy_seed(seed):
        warnings.simplefilter("ignore")
        return float(SeededDCRBaselineProtection.compute(plain_frame(train, kinds), plain_frame(synthetic, kinds),
                                                         plain_metadata(kinds), None))


def new_row_synthesis(train: pd.DataFrame, synthetic: pd.DataFrame, kinds) -> float:
    """SDMetrics ``NewRowSynthesis``: the share of ``synthetic`` rows matching no ``train`` row."""
    from sdmetrics.single_table import NewRowSynthesis

    # NewRowSynthesis builds pandas queries from column names; positional names keep any header safe
    names = {name: f"c{i}" for i, name in enumerate(kinds)}
    renamed = {names[name]: kind for name, kind in kinds.items()}
    train, synthetic = (plain_frame(f, kinds).rename(columns=names) for f in (train, synthetic))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(NewRowSynthesis.compute(train, synthetic, plain_metadata(renamed)))


@register_metric
class SDMetricsPrivacyMetric(Metric):
    """SDMetrics DCRBaselineProtection and NewRowSynthesis against the training rows."""

    name = "privacy-sdmetrics"
    rank = 60
    description = "SDMetrics DCRBaselineProtection and NewRowSynthesis against the training rows (slow)"
    default = False
    figures = (
        Figure("dcr_baseline_protection", "DCR baseline protection (SDMetrics)", "maximize", 0.0, 1.0),
        Figure("new_row_synthesis", "new rows (SDMetrics NewRowSynthesis)", "maximize",
               0.0, 1.0),
    )

    def compute(self, real: RealRows, synthetic: pd.DataFrame, seed: int) -> dict[str, float]:
        """Both figures of at most ``MAX_ROWS`` of the ``synthetic`` rows."""
        if len(synthetic) > MAX_ROWS:
            synthetic = synthetic.sample(n=MAX_ROWS, random_state=seed).reset_index(drop=True)
        return {"dcr_baseline_protection": dcr_baseline_protection(real.train, synthetic, real.kinds, seed),
                "new_row_synthesis": new_row_synthesis(real.train, synthetic, real.kinds)}

    def reference(self, real: RealRows, n_rows: int, seed: int) -> dict[str, float]:
        """The holdout rows in the generator's place."""
        return self.compute(real, real.holdout, seed)
