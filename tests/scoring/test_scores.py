"""LayerScores: direction, min-max normalisation, ranks, validation."""

from __future__ import annotations

import math

import pytest

from fuseprune.errors import ConfigError, DataError
from fuseprune.scoring import LayerScores, normalise


def test_normalise_flips_minimize_then_min_max():
    assert normalise([2.0, 4.0, 3.0], "maximize") == (0.0, 1.0, 0.5)
    assert normalise([2.0, 4.0, 3.0], "minimize") == (1.0, 0.0, 0.5)
    assert normalise([7.0, 7.0], "maximize") == (0.5, 0.5)  # no preference


def test_ranks_break_ties_by_layer_index():
    scores = LayerScores("x", "activation", "maximize", (1.0, 3.0, 3.0, 0.0))
    assert scores.ranks == (3, 1, 2, 4)


def test_validation():
    with pytest.raises(ConfigError, match="goal"):
        LayerScores("x", "activation", "up", (1.0,))
    with pytest.raises(DataError, match="finite"):
        LayerScores("x", "activation", "maximize", (1.0, math.nan))
    with pytest.raises(DataError, match="at least one layer"):
        LayerScores("x", "activation", "maximize", ())
    with pytest.raises(ConfigError, match="unknown LayerScores keys: bogus"):
        LayerScores.from_dict({"name": "x", "family": "f", "goal": "maximize", "raw": [1.0], "bogus": 1})
