"""Detection: classifiers that try to tell synthetic rows from real holdout rows."""

from __future__ import annotations

import pandas as pd

from fuseprune.evaluation.detection import gbdt_detection, logistic_detection, one_hot

KINDS = {"v": "numerical", "c": "categorical"}


def test_categories_are_one_hot_over_both_frames():
    real = pd.DataFrame({"v": [1.0, 2.0], "c": ["a", "b"]})
    synthetic = pd.DataFrame({"v": [3.0, 4.0], "c": ["b", "z"]})  # "z" never occurs in the real rows
    encoded_real, encoded_synthetic = one_hot(real, synthetic, KINDS)
    assert list(encoded_real.columns) == ["c0", "c1_0", "c1_1", "c1_2"]  # v; c = a, b, z
    assert encoded_real.to_numpy().tolist() == [[1, 1, 0, 0], [2, 0, 1, 0]]
    assert encoded_synthetic.to_numpy().tolist() == [[3, 0, 1, 0], [4, 0, 0, 1]]


def test_rows_like_the_holdout_are_hard_to_detect_and_shifted_rows_easy(process_real, process):
    holdout, kinds = process_real.holdout, process_real.kinds
    alike = process(300, 21)
    shifted = alike.assign(x=alike["x"] + 1.5)  # one column moved by 1.5 standard deviations
    for detect in (logistic_detection, gbdt_detection):
        assert detect(holdout, alike, kinds, 0) > 0.8, detect.__name__
        assert detect(holdout, shifted, kinds, 0) < 0.4, detect.__name__


def test_a_value_the_holdout_never_had_does_not_break_the_logistic_test(process_real, process):
    rows = process(100, 22)
    rows.loc[0, "c"] = "unseen"
    score = logistic_detection(process_real.holdout, rows, process_real.kinds, 0)
    assert 0.0 <= score <= 1.0
    assert logistic_detection(process_real.holdout, rows, process_real.kinds, 0) == score  # seeded folds
