from __future__ import annotations

import json

import numpy as np
import pytest

from fuseprune.errors import DataError
from fuseprune.fusion import ForestFusion, LinearFusion
from fuseprune.fusion.bank import spearman


def xor_target(frame):
    # important when exactly one of the two signals is high: no linear model can express it
    return ((frame["act_norm"] > 0.5) != (frame["taylor"] > 0.5)).astype(float) + 0.1 * frame["act_norm"]


def mean_state_spearman(model, bank):
    return np.mean([spearman(model.predict(state), state["target"]) for _, state in bank.states()])


def test_forest_learns_an_interaction_that_linear_fusion_cannot(make_bank):
    train = make_bank(xor_target, datasets=("a", "b", "c", "d"), seed=0)
    test = make_bank(xor_target, datasets=("e",), seed=1)
    forest = ForestFusion(random_state=0).fit(train)
    linear = LinearFusion().fit(train)
    assert mean_state_spearman(forest, test) > 0.6
    assert mean_state_spearman(linear, test) < 0.3


def test_same_seed_same_forest(make_bank):
    bank = make_bank(xor_target)
    first = ForestFusion(n_estimators=20, random_state=3).fit(bank).predict(bank.frame)
    second = ForestFusion(n_estimators=20, random_state=3).fit(bank).predict(bank.frame)
    np.testing.assert_array_equal(first, second)


def test_saved_forest_is_refitted_from_its_bank_without_pickle(make_bank, tmp_path):
    bank = make_bank(xor_target)
    bank_path = bank.save(tmp_path / "bank.csv")
    forest = ForestFusion(n_estimators=20).fit(bank)
    saved = forest.save(tmp_path / "forest.json", bank_path)
    assert set(json.loads(saved.read_text())) == {"kind", "params", "features", "bank", "bank_sha256"}
    np.testing.assert_array_equal(ForestFusion.load(saved).predict(bank.frame), forest.predict(bank.frame))
    bank_path.write_text(bank_path.read_text().replace("\na,0,0,0,", "\na,1,0,0,", 1))
    with pytest.raises(DataError, match="changed since the forest was saved"):
        ForestFusion.load(saved)
