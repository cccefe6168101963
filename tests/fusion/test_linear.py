from __future__ import annotations

import numpy as np
import pytest

from fuseprune.errors import DataError, NotFittedError
from fuseprune.fusion import LinearFusion
from fuseprune.fusion.bank import CONTEXT_FEATURES, spearman


def test_recovers_a_linear_target_exactly(make_bank):
    bank = make_bank(lambda f: 0.7 * f["act_norm"] + 0.3 * f["taylor"])
    features = bank.frame[bank.features()]
    y = 0.7 * bank.frame["act_norm"] + 0.3 * bank.frame["taylor"]  # the raw (un-normalised) linear target
    model = LinearFusion(alpha=0.0).fit(features, y)
    weights = model.weights()
    assert weights["act_norm"] == pytest.approx(0.7, abs=1e-9)
    assert weights["taylor"] == pytest.approx(0.3, abs=1e-9)
    assert max(abs(w) for name, w in weights.items() if name not in ("act_norm", "taylor")) < 1e-9
    np.testing.assert_allclose(model.predict(features), y, atol=1e-9)


def test_fitted_on_a_bank_ranks_layers_like_the_target(make_bank):
    bank = make_bank(lambda f: 0.7 * f["act_norm"] + 0.3 * f["taylor"])
    model = LinearFusion().fit(bank)
    assert model.feature_names_in_ == bank.signals + list(CONTEXT_FEATURES)
    # min-max normalisation within each state bends the linear relation a little, so ranks agree closely
    correlations = [spearman(model.predict(state), state["target"]) for _, state in bank.states()]
    assert np.mean(correlations) > 0.8 and np.min(correlations) > 0.0


def test_save_and_load_give_the_same_predictions(make_bank, tmp_path):
    bank = make_bank(lambda f: f["fisher"] - f["depth"])
    model = LinearFusion().fit(bank)
    loaded = LinearFusion.load(model.save(tmp_path / "linear.json"))
    np.testing.assert_array_equal(loaded.predict(bank.frame), model.predict(bank.frame))


def test_unfitted_use_and_bad_input_are_refused(make_bank, tmp_path):
    bank = make_bank(lambda f: f["act_norm"])
    with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
        LinearFusion().predict(bank.frame)
    assert issubclass(NotFittedError, ValueError)
    model = LinearFusion().fit(bank)
    with pytest.raises(DataError, match="lacks column\\(s\\) taylor"):
        model.predict(bank.frame.drop(columns="taylor"))
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(DataError, match="is not a saved LinearFusion"):
        LinearFusion.load(tmp_path / "bad.json")
