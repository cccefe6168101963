"""The mixed-type encoding distance metrics share, worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fuseprune.evaluation.encoding import MixedEncoding

KINDS = {"age": "numerical", "sex": "categorical", "smoker": "boolean"}
TRAIN = pd.DataFrame({"age": [20.0, 40.0, np.nan, 60.0], "sex": ["f", "m", "f", None],
                      "smoker": [True, False, False, True]})


def test_numbers_scale_to_the_training_range_and_categories_become_one_hot():
    encoding = MixedEncoding(TRAIN, KINDS)
    # age: (x - 20) / 40, missing -> the training mean 40 -> 0.5, plus a missing indicator;
    # sex: the missing marker (which sorts first), f, m; smoker: False, True
    assert encoding.width == 2 + 3 + 2
    rows = pd.DataFrame({"age": [30.0, np.nan, 100.0], "sex": ["m", "f", "x"], "smoker": [True, False, True]})
    expected = [[0.25, 0, 0, 0, 1, 0, 1],
                [0.5, 1, 0, 1, 0, 1, 0],
                [2.0, 0, 0, 0, 0, 0, 1]]  # 100 lies outside the training range (unclipped); "x" is unseen
    assert encoding.transform(rows) == pytest.approx(np.array(expected, dtype=float))


def test_a_missing_category_is_its_own_value_and_one_category_apart_is_sqrt_two():
    encoding = MixedEncoding(TRAIN, KINDS)
    a, b = encoding.transform(TRAIN.iloc[[0, 3]].assign(age=20.0))
    assert np.linalg.norm(a - b) == pytest.approx(np.sqrt(2))  # f vs missing; smoker equal; age equal


def test_a_constant_number_encodes_as_zero():
    encoding = MixedEncoding(pd.DataFrame({"v": [5.0, 5.0]}), {"v": "numerical"})
    assert encoding.transform(pd.DataFrame({"v": [5.0, 9.0]})).ravel().tolist() == [0.0, 0.0]
