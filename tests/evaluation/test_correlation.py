"""Association matrices and their divergence, on frames small enough to work out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fuseprune.evaluation.correlation import association_matrix, correlation_ratio, cramers_v, divergence, pearson

KINDS = {"x": "numerical", "y": "numerical", "c": "categorical"}
# real: y = 2x (r = 1), c splits the low and the high half
REAL = pd.DataFrame({"x": [1, 2, 3, 4], "y": [2, 4, 6, 8], "c": ["a", "a", "b", "b"]})
# synthetic: y falls as x rises (r = -1), c alternates
SYNTHETIC = pd.DataFrame({"x": [1, 2, 3, 4], "y": [8, 6, 4, 2], "c": ["a", "b", "a", "b"]})


def labels(*values):
    return np.asarray(values, dtype=object)


def test_cramers_v_by_hand():
    # a,a,a,b x u,u,v,v: counts a->(2 u, 1 v), b->(0 u, 1 v); expected a->(1.5, 1.5), b->(0.5, 0.5);
    # chi2 = 2 * 0.25 / 1.5 + 2 * 0.25 / 0.5 = 4/3; V = sqrt(4/3 / (4 * (2 - 1))) = sqrt(1/3), no Yates correction
    assert cramers_v(labels("a", "a", "a", "b"), labels("u", "u", "v", "v")) == pytest.approx(math.sqrt(1 / 3))
    assert cramers_v(labels("a", "a", "b", "b"), labels("u", "u", "v", "v")) == pytest.approx(1.0)
    assert cramers_v(labels("a", "a", "b", "b"), labels("u", "v", "u", "v")) == pytest.approx(0.0)
    assert cramers_v(labels("a", "a", "a", "a"), labels("u", "v", "u", "v")) == 0.0  # one category: undefined -> 0


def test_correlation_ratio_by_hand():
    # groups a: {1, 2} (mean 1.5), b: {3, 4} (mean 3.5), overall mean 2.5:
    # between = 2 * 1 + 2 * 1 = 4, total = 2.25 + 0.25 + 0.25 + 2.25 = 5 -> eta = sqrt(0.8)
    numbers = np.array([1.0, 2.0, 3.0, 4.0])
    assert correlation_ratio(labels("a", "a", "b", "b"), numbers) == pytest.approx(math.sqrt(0.8))
    assert correlation_ratio(labels("a", "b", "a", "b"), numbers) == pytest.approx(math.sqrt(0.2))
    assert correlation_ratio(labels("a", "b", "a", "b"), np.full(4, 7.0)) == 0.0  # constant numbers


def test_pearson_uses_rows_where_both_are_present():
    assert pearson(np.array([1.0, 2.0, np.nan, 4.0]), np.array([2.0, 4.0, 100.0, 8.0])) == pytest.approx(1.0)
    assert pearson(np.array([1.0, 2.0, 3.0]), np.array([5.0, 5.0, 5.0])) == 0.0


def test_association_matrix_mixes_the_three_measures():
    matrix = association_matrix(REAL, KINDS)
    expected = [[1, 1, math.sqrt(0.8)], [1, 1, math.sqrt(0.8)], [math.sqrt(0.8), math.sqrt(0.8), 1]]
    assert matrix.to_numpy() == pytest.approx(np.array(expected))
    assert list(matrix.index) == list(matrix.columns) == ["x", "y", "c"]


def test_divergence_by_hand():
    # differences: x-y |1 - (-1)| = 2; x-c and y-c |sqrt(0.8) - sqrt(0.2)| = sqrt(0.2) each
    result = divergence(REAL, SYNTHETIC, KINDS)
    assert result["corr_mae"] == pytest.approx((2 + 2 * math.sqrt(0.2)) / 3)
    # Frobenius over the full symmetric difference matrix: sqrt(2 * (4 + 0.2 + 0.2)) = sqrt(8.8)
    assert result["corr_frobenius"] == pytest.approx(math.sqrt(8.8))
    assert divergence(REAL, REAL.copy(), KINDS) == {"corr_mae": 0.0, "corr_frobenius": 0.0}


def test_a_missing_category_counts_as_a_category_of_its_own():
    frame = pd.DataFrame({"c": ["a", None, "a", None], "d": ["u", "v", "u", "v"]})
    matrix = association_matrix(frame, {"c": "categorical", "d": "categorical"})
    assert matrix.loc["c", "d"] == pytest.approx(1.0)
