from __future__ import annotations

import numpy as np
import pytest

from fuseprune.errors import DataError
from fuseprune.scoring import list_signals
from fuseprune.tabular import calibration_batches, score_tabular


def test_tabular_scores_do_not_depend_on_batching(tiny_bundle, wisconsin):
    train, _ = wisconsin.split()
    one = score_tabular(tiny_bundle, train, n_rows=96, batch_size=96)
    several = score_tabular(tiny_bundle, train, n_rows=96, batch_size=20)
    assert one.signals == several.signals == list_signals()
    for name in one.signals:
        np.testing.assert_allclose(one[name].raw, several[name].raw, rtol=1e-4, atol=1e-7, err_msg=name)


def test_calibration_batches_are_a_seeded_sample_of_full_rows(tiny_bundle, wisconsin):
    train, _ = wisconsin.split()
    batches = calibration_batches(tiny_bundle.codec, train, n_rows=50, batch_size=16, seed=1)
    assert [len(b["input_ids"]) for b in batches] == [16, 16, 16, 2]
    assert batches[0]["input_ids"].shape[1] == tiny_bundle.codec.sequence_length
    again = calibration_batches(tiny_bundle.codec, train, n_rows=50, batch_size=16, seed=1)
    assert all((a["input_ids"] == b["input_ids"]).all() for a, b in zip(batches, again, strict=True))


def test_empty_calibration_data_is_refused(tiny_bundle, wisconsin):
    with pytest.raises(DataError, match="calibration data is empty"):
        calibration_batches(tiny_bundle.codec, wisconsin.frame.head(0))
