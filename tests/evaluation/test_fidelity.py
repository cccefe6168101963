"""Alpha-precision and beta-recall (naive), checked by hand with three alpha steps (0, 0.5, 1)."""

from __future__ import annotations

import numpy as np
import pytest

from fuseprune.evaluation.encoding import MixedEncoding
from fuseprune.evaluation.fidelity import FidelityMetric, alpha_beta

REAL = np.array([[0.0], [1.0], [2.0], [3.0]])


def test_identical_points_by_hand():
    # real centre 1.5; distances to it 1.5, 0.5, 0.5, 1.5 -> radii at alpha 0, 0.5, 1: 0.5, 1.0, 1.5.
    # Precision curve: share of synthetic points within each radius = 0.5, 0.5, 1.0;
    # delta = 1 - (|0 - 0.5| + |0.5 - 0.5| + |1 - 1|) / (0 + 0.5 + 1) = 2/3.
    # Recall: every real point's nearest synthetic point is itself (distance 0 <= 1, its nearest other real
    # point), and those points' distances to the synthetic mean give the same curve: 2/3.
    precision, recall = alpha_beta(REAL, REAL.copy(), steps=3)
    assert precision == pytest.approx(2 / 3) and recall == pytest.approx(2 / 3)


def test_collapsed_points_by_hand():
    # every synthetic point at the real centre 1.5: all within every radius -> curve 1, 1, 1:
    # precision = 1 - (1 + 0.5 + 0) / 1.5 = 0.
    # Recall: real points 1 and 2 are 0.5 from a synthetic point (<= 1, their nearest real neighbour),
    # 0 and 3 are 1.5 away (> 1): curve 0.5, 0.5, 0.5 -> 1 - (0.5 + 0 + 0.5) / 1.5 = 1/3.
    precision, recall = alpha_beta(REAL, np.full((4, 1), 1.5), steps=3)
    assert precision == pytest.approx(0.0) and recall == pytest.approx(1 / 3)


def test_fresh_rows_score_near_the_reference_and_collapsed_rows_do_not(process_real, process):
    metric = FidelityMetric()
    fresh = metric.compute(process_real, process(200, 5), seed=0)
    reference = metric.reference(process_real, 200, seed=0)
    assert fresh["alpha_precision"] == pytest.approx(reference["alpha_precision"], abs=0.08)
    assert fresh["beta_recall"] == pytest.approx(reference["beta_recall"], abs=0.08)
    collapsed = process_real.train.iloc[[0] * 200].reset_index(drop=True)  # one row, 200 times
    worst = metric.compute(process_real, collapsed, seed=0)
    assert worst["beta_recall"] < 0.1 < reference["beta_recall"]


def test_the_larger_set_is_cut_to_a_seeded_sample_of_the_smaller_size(process_real, process):
    rows = process(1000, 9)  # 1000 synthetic rows against 200 holdout rows
    encoding = MixedEncoding(process_real.train, process_real.kinds)
    sample = rows.sample(n=200, random_state=3)
    expected = alpha_beta(encoding.transform(process_real.holdout), encoding.transform(sample))
    result = FidelityMetric().compute(process_real, rows, seed=3)
    assert (result["alpha_precision"], result["beta_recall"]) == pytest.approx(expected)
