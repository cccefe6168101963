"""Targets, protection and the removal ranking, checked by hand without any model."""

from __future__ import annotations

import pytest

from fuseprune.errors import ConfigError
from fuseprune.pruning import Target, protected_layers, removal_ranking
from fuseprune.pruning.targets import Selection


@pytest.mark.parametrize(
    ("remove", "layers", "expected"),
    [(3, 6, 3), ("3", 6, 3), ("50%", 6, 3), ("50%", 5, 3), ("50 %", 4, 2), (0.5, 6, 3), ("10%", 6, 1),
     ("1%", 6, 1), ("34%", 6, 2), ("75%", 4, 3)],
)
def test_layer_counts(remove, layers, expected):
    assert Target.parse(remove, None).layer_count(layers) == expected


@pytest.mark.parametrize(
    ("remove", "max_params", "message"),
    [(None, None, "exactly one of `remove`"), (2, 100, "exactly one of `remove`"), (0, None, "at least 1; got 0"),
     ("150%", None, "less than 100%"), ("0%", None, "greater than 0%"), ("abc", None, "a layer count \\(3\\) or"),
     (True, None, "a layer count"), (1.5, None, "less than 1"), (None, 0, "positive integer"),
     (None, 2.5, "positive integer"), ([2], None, "a layer count")],
)
def test_bad_targets(remove, max_params, message):
    with pytest.raises(ConfigError, match=message) as info:
        Target.parse(remove, max_params)
    assert "\n" not in str(info.value)


def test_protection():
    assert protected_layers(("first", "last"), 6) == {0, 5}
    assert protected_layers(["last", 2], 6) == {2, 5}
    assert protected_layers(("first", "last"), 1) == {0}
    assert protected_layers(["2", "last"], 6) == {2, 5}  # `--protect 2,last` on the command line
    for bad in ("middle", 6, -1, True, "6", "-1", "2.0"):
        with pytest.raises(ConfigError, match="'first', 'last' or a layer index between 0 and 5"):
            protected_layers([bad], 6)


def test_removal_ranking_lowest_first_ties_later_layer_first():
    assert removal_ranking([0.9, 0.1, 0.5, 0.3, 0.7, 0.2], range(6)) == [1, 5, 3, 2, 4, 0]
    assert removal_ranking([0.5] * 4, range(4)) == [3, 2, 1, 0]
    assert removal_ranking([0.9, 0.1, 0.5, 0.3], [0, 2, 3]) == [3, 2, 0]


def selection(remove=None, max_params=None, protect=(), layers=6, size=16, total=116) -> Selection:
    return Selection(Target.parse(remove, max_params), protected_layers(protect, layers), (size,) * layers, total)


KEEP = [0.9, 0.1, 0.5, 0.3, 0.7, 0.2]


@pytest.mark.parametrize(
    ("budget", "expected"),
    [(116, ()), (100, (1,)), (99, (1, 5)), (84, (1, 5)), (83, (1, 5, 3)), (36, (1, 5, 3, 2, 4))],
)
def test_budget_picks_the_smallest_removal(budget, expected):
    chosen = selection(max_params=budget)
    chosen.check()
    assert chosen.choose(KEEP) == expected


def test_impossible_targets_are_refused_up_front():
    with pytest.raises(ConfigError, match="`max_params` 35 cannot be met without removing every layer: the smallest "
                                          "model keeping a layer has 36 parameters"):
        selection(max_params=35).check()
    with pytest.raises(ConfigError, match="every layer \\(2 protected\\)"):
        selection(max_params=51, protect=("first", "last")).check()
    selection(max_params=52, protect=("first", "last")).check()
    with pytest.raises(ConfigError, match="between 1 and 5 for this 6-layer model; got 6"):
        selection(remove=6).check()
    with pytest.raises(ConfigError, match="between 1 and 4 for this 6-layer model \\(2 protected\\); 99% of 6"):
        selection(remove="99%", protect=("first", "last")).check()
    with pytest.raises(ConfigError, match="no layer can be removed from this 1-layer model"):
        selection(remove=1, layers=1).check()
