from __future__ import annotations

import pytest

from fuseprune.errors import DataError
from fuseprune.fusion import validate


def test_fusion_beats_random_when_one_signal_is_the_truth(make_bank):
    bank = make_bank(lambda f: f["block_influence"], datasets=("a", "b", "c"))
    result = validate(bank)
    means = result.pivot()["mean"]
    assert means["block_influence"] == pytest.approx(1.0)
    assert means["fusion-lr"] > 0.8 and means["fusion-rf"] > 0.8
    assert abs(means["random"]) < 0.3
    summary = result.summary()
    assert summary["best_single_signal"] == "block_influence"
    assert set(result.table["dataset"]) == {"a", "b", "c"}
    assert (result.table["states"] == 10).all()  # 2 seeds x 5 states of 6..2 layers


def test_validation_needs_two_data_sets(make_bank):
    with pytest.raises(DataError, match="at least 2 data sets; the bank has \\['a'\\]"):
        validate(make_bank(lambda f: f["taylor"], datasets=("a",)))
