"""The Signal registry: registration rules and names."""

from __future__ import annotations

import numpy as np
import pytest

from fuseprune.errors import ConfigError
from fuseprune.scoring import SIGNALS, Signal, list_signals, register_signal


def test_list_signals_by_family():
    assert list_signals("attention") == ["attention_concentration", "attention_entropy"]
    assert list_signals("gradient") == ["conductance", "fisher", "grad_norm", "taylor"]
    with pytest.raises(ConfigError, match="family"):
        list_signals("vibes")


def test_registration_rules():
    class Bad(Signal):
        family = "activation"
        needs = frozenset({"activations"})

        def raw_scores(self, trace):
            return np.zeros(trace.num_layers)

    with pytest.raises(ConfigError, match="already registered"):
        register_signal("act_norm")(Bad)
    Bad.family = "astrology"
    with pytest.raises(ConfigError, match="family"):
        register_signal("bad_family")(Bad)
    Bad.family, Bad.needs = "activation", frozenset({"telepathy"})
    with pytest.raises(ConfigError, match="needs"):
        register_signal("bad_needs")(Bad)
    with pytest.raises(ConfigError, match="Signal subclasses"):
        register_signal("not_a_signal")(object)
    assert "bad_family" not in SIGNALS and "bad_needs" not in SIGNALS
