"""Distance to closest record: the share nearer training rows, its 5th percentile, exact copies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fuseprune.evaluation import RealRows
from fuseprune.evaluation.privacy import PrivacyMetric, dcr_share


def column(*values: float) -> np.ndarray:
    return np.array(values, dtype=float)[:, None]


def test_dcr_share_by_hand():
    train, holdout = column(0, 10, 20, 30), column(100, 110)
    # 0 copies a training row: credit 1. 105 is 5 from both holdout rows and 75 from the nearest training
    # row: credit 0. 65 is 35 from 30 (training) and 35 from 100 (holdout): a tie, credit 1 / (1 + 1).
    # Mean credit S = 0.5; with 4 training and 2 holdout rows: S * 2 / (S * 2 + (1 - S) * 4) = 1/3
    assert dcr_share(column(0, 105, 65), train, holdout) == pytest.approx(1 / 3)
    # copies only: every credit is 1, the share is 1 whatever the sizes
    assert dcr_share(column(0, 10, 30), train, holdout) == pytest.approx(1.0)


def test_ties_split_by_how_many_rows_of_each_set_are_tied():
    train, holdout = column(0, 0, 0, 50), column(0, 90)
    # the query 0 has three training rows and one holdout row at distance 0: credit 3 / 4;
    # S = 0.75; share = 0.75 * 2 / (0.75 * 2 + 0.25 * 4) = 0.6
    assert dcr_share(column(0), train, holdout) == pytest.approx(0.6)


def test_copies_are_flagged_and_fresh_rows_sit_at_the_reference(process_real, process):
    metric = PrivacyMetric()
    copies = process_real.train.sample(n=300, replace=True, random_state=0).reset_index(drop=True)
    flagged = metric.compute(process_real, copies, seed=0)
    assert flagged == {"dcr_share": 1.0, "dcr_p5": 0.0, "copy_share": 1.0}
    fresh = [metric.compute(process_real, process(300, seed), seed=0) for seed in (2, 3, 4, 5)]
    reference = metric.reference(process_real, 300, seed=0)
    assert reference["copy_share"] == 0.0 and {f["copy_share"] for f in fresh} == {0.0}  # no real row repeats
    # unmemorised rows lean to neither set: 50 % (one sample of 300 rows spreads by about 0.03)
    assert np.mean([f["dcr_share"] for f in fresh]) == pytest.approx(0.5, abs=0.05)
    assert np.mean([f["dcr_p5"] for f in fresh]) == pytest.approx(reference["dcr_p5"], rel=0.5)


def test_the_reference_share_comes_from_holdout_halves():
    # one numerical column: holdout rows 0..9, training rows 100..139. A holdout half is always nearer the
    # other half than the training rows, so the reference share is 0: the figure is measured, not assumed.
    real = RealRows(pd.DataFrame({"v": np.arange(100.0, 140.0)}), pd.DataFrame({"v": np.arange(10.0)}),
                    {"v": "numerical"})
    assert PrivacyMetric().reference(real, 10, seed=0)["dcr_share"] == 0.0
