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


def signal_class(family="activation", needs=frozenset({"activations"})):
    """A fresh, unregistered Signal subclass (a failed registration must leave it as it was)."""

    class Candidate(Signal):
        def raw_scores(self, trace):
            return np.zeros(trace.num_layers)

    Candidate.family, Candidate.needs = family, needs
    return Candidate


@pytest.mark.parametrize(
    ("name", "cls", "message"),
    [
        ("act_norm", signal_class(), "'act_norm' is already registered as a signal or reference; pick another name."),
        ("bad_family", signal_class(family="astrology"),
         ("`family` of signal 'bad_family' must be one of activation, information, gradient, weight, attention; "
          "got 'astrology'.")),
        ("bad_needs", signal_class(needs=frozenset({"telepathy"})),
         ("`needs` of signal 'bad_needs' must be a non-empty subset of ['activations', 'attentions', 'attribution', "
          "'gradients', 'output_gradients', 'samples', 'weights']; got ['telepathy'].")),
        ("no_needs", signal_class(needs=frozenset()), "`needs` of signal 'no_needs' must be a non-empty subset"),
        ("not_a_signal", object, "only Signal subclasses can be registered; got <class 'object'>."),
    ],
)
def test_a_refused_registration_names_the_problem_and_changes_nothing(name, cls, message):
    before = dict(vars(cls))
    with pytest.raises(ConfigError) as info:
        register_signal(name)(cls)
    assert str(info.value).startswith(message)
    assert dict(vars(cls)) == before  # validated before anything was set on the class
    assert name == "act_norm" or name not in SIGNALS


def test_each_rule_is_checked_on_a_class_no_earlier_registration_touched():
    # the same class, refused for its family first, is then refused for its needs (not for a name set earlier)
    cls = signal_class(family="astrology")
    with pytest.raises(ConfigError, match="`family` of signal 'first'"):
        register_signal("first")(cls)
    cls.family, cls.needs = "activation", frozenset({"telepathy"})
    with pytest.raises(ConfigError, match="`needs` of signal 'second'"):
        register_signal("second")(cls)
    assert cls.name == "" and "first" not in SIGNALS and "second" not in SIGNALS
