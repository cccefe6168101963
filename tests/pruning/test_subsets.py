"""Every subset measured, and a choice's regret among them: values worked out by hand."""

from __future__ import annotations

import pytest

from fuseprune.errors import ConfigError, DataError
from fuseprune.pruning.subsets import regret_of, subsets_of

# losses of the four subsets of one layer of a 4-layer stack, and two of size two
LOSSES = {(0,): 2.0, (1,): 1.0, (2,): 1.5, (3,): 3.0, (0, 1): 5.0, (2, 3): 4.0}


def test_regret_is_zero_for_the_best_one_for_the_worst_and_linear_between():
    assert regret_of(LOSSES, [1]).regret == 0.0
    assert regret_of(LOSSES, [3]).regret == 1.0
    assert regret_of(LOSSES, [2]).regret == pytest.approx(0.25)  # (1.5 - 1) / (3 - 1)
    assert regret_of(LOSSES, [0]).regret == pytest.approx(0.5)


def test_percentile_counts_the_subsets_of_the_same_size_that_do_strictly_better():
    assert regret_of(LOSSES, [1]).percentile == 0.0
    assert regret_of(LOSSES, [0]).percentile == 0.5  # (1,) and (2,) are better; size-two subsets do not count
    assert regret_of(LOSSES, [3]).percentile == 0.75
    both = regret_of(LOSSES, (3, 2))  # order does not matter
    assert (both.regret, both.percentile, both.best, both.worst, both.count) == (0.0, 0.0, 4.0, 5.0, 2)


def test_ties_give_no_regret_and_an_unmeasured_subset_is_refused():
    assert regret_of({(0,): 1.0, (1,): 1.0}, [1]).regret == 0.0
    with pytest.raises(DataError, match=r"the subset \[0, 2\] was not measured"):
        regret_of(LOSSES, [2, 0])


def test_subsets_of_lists_every_subset_of_the_unprotected_layers_by_size():
    assert subsets_of(4, [2, 0], protected=[3]) == [(), (0, 1), (0, 2), (1, 2)]
    assert len(subsets_of(12, [6])) == 924
    with pytest.raises(ConfigError, match="between 0 and 3 layers; got 4"):
        subsets_of(4, [4], protected=[0])
