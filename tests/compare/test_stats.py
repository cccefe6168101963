"""Paired head-to-head statistics on hand-made result tables where the answer is obvious."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fuseprune.compare.stats import bootstrap_interval, paired_comparison, wilcoxon_p

UNITS = pd.MultiIndex.from_product([["iris", "wine", "pima"], [0, 1, 2, 3]], names=["dataset", "seed"])


def test_exact_wilcoxon_p_values_by_hand():
    # n differences all of one sign: the most extreme of 2^n equally likely sign patterns, two-sided: 2 / 2^n
    assert wilcoxon_p(np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])) == pytest.approx(2 / 64)
    assert wilcoxon_p(np.array([0.1, 0.2, 0.3, 0.4, 0.5])) == pytest.approx(2 / 32)
    assert wilcoxon_p(np.zeros(4)) == 1.0  # no difference at all


def test_a_clear_winner_is_called_better():
    # 12 (data set, seed) pairs; the first strategy leads by 0.02 to 0.04 on every one
    rng = np.random.default_rng(0)
    second = pd.Series(rng.uniform(0.7, 0.9, len(UNITS)), index=UNITS)
    first = second + rng.uniform(0.02, 0.04, len(UNITS))
    result = paired_comparison(first, second, higher_is_better=True)
    assert result.verdict == "better" and result.n == 12
    assert result.p_value == pytest.approx(2 / 2**12)
    assert 0.02 < result.low < result.mean_difference < result.high < 0.04
    assert paired_comparison(second, first).verdict == "worse"
    # for a loss (lower is better) the same numbers mean the first is worse
    assert paired_comparison(first, second, higher_is_better=False).verdict == "worse"


def test_a_coin_flip_is_a_tie():
    # the lead changes sides from pair to pair, by the same amounts each way: the signed ranks cancel
    second = pd.Series(np.linspace(0.7, 0.9, len(UNITS)), index=UNITS)
    lead = [0.03, -0.03, 0.02, -0.025, 0.01, -0.01, 0.025, -0.02, 0.015, -0.015, 0.005, -0.005]
    result = paired_comparison(second + lead, second)
    assert result.verdict == "tie" and result.p_value == pytest.approx(1.0) and result.low < 0 < result.high
    # nine of twelve leads one way, but small ones against a large one the other way: p = 0.097, a tie
    lopsided = [0.03, 0.03, 0.02, 0.025, 0.01, 0.01, 0.025, 0.02, 0.015, -0.015, -0.005, -0.035]
    assert paired_comparison(second + lopsided, second).verdict == "tie"


def test_five_pairs_are_never_enough():
    units = UNITS[:5]
    result = paired_comparison(pd.Series(1.0, index=units), pd.Series(0.0, index=units))
    # every difference is +1: the interval is [1, 1], but p = 2 / 32 > 0.05 -> no claim
    assert (result.low, result.high) == (1.0, 1.0) and result.p_value == pytest.approx(0.0625)
    assert result.verdict == "tie"


def test_pairs_follow_the_index_and_missing_values_drop_out():
    first = pd.Series([0.9, 0.8, np.nan], index=["a", "b", "c"])
    second = pd.Series([0.5, 0.7, 0.1], index=["b", "a", "c"])  # another order
    result = paired_comparison(first, second)
    assert result.n == 2 and result.mean_difference == pytest.approx(((0.9 - 0.7) + (0.8 - 0.5)) / 2)
    empty = paired_comparison(pd.Series(dtype=float), pd.Series(dtype=float))
    assert empty.n == 0 and empty.verdict == "tie" and empty.text() == "tie (no pairs)"


def test_the_bootstrap_interval_is_seeded():
    differences = np.array([0.1, -0.2, 0.3, 0.05, 0.0])
    assert bootstrap_interval(differences, seed=3) == bootstrap_interval(differences, seed=3)
    low, high = bootstrap_interval(differences)
    assert differences.min() <= low <= differences.mean() <= high <= differences.max()
