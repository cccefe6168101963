"""One parametrised check that every registered signal and reference strategy behaves."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fuseprune.scoring import FAMILIES, GOALS, NEEDS, REFERENCES, SIGNALS, list_references, list_signals, score_layers

ALL = list_signals() + list_references()


def test_thirteen_signals_in_five_families():
    assert len(list_signals()) == 13
    assert {SIGNALS.get(n).family for n in list_signals()} == set(FAMILIES)
    assert list_references() == ["ablation", "random"]


@pytest.mark.parametrize("name", ALL)
def test_every_signal_and_reference(name, gpt2, gpt2_batches):
    cls = SIGNALS.get(name) if name in SIGNALS else REFERENCES.get(name)
    assert cls.name == name and cls.goal in GOALS and cls.description
    if name in SIGNALS:
        assert cls.family in FAMILIES and cls.needs and cls.needs <= NEEDS
    first = score_layers(gpt2, gpt2_batches, [name], seed=7)[name]
    second = score_layers(gpt2, gpt2_batches, [name], seed=7)[name]
    # one finite score per layer, normalised to [0, 1]
    assert first.num_layers == gpt2.config.n_layer
    assert all(math.isfinite(v) for v in first.raw)
    assert all(0.0 <= k <= 1.0 for k in first.keep)
    # same seed, same result
    assert first == second
    # declared direction: the layer with the best raw value (by goal) gets keep 1
    best = int(np.argmax(first.raw) if first.goal == "maximize" else np.argmin(first.raw))
    assert first.keep[best] == 1.0 and first.ranks[best] == 1
    assert first.reference == (name in REFERENCES)
