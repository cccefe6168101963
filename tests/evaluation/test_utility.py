"""Machine-learning efficiency: CatBoost trained on synthetic rows, tested on the real holdout."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from fuseprune.errors import DataError
from fuseprune.evaluation.utility import UtilityMetric

CLASSIFICATION = {"utility_accuracy", "utility_macro_f1", "utility_roc_auc", "utility_ratio"}


def test_real_training_rows_in_the_generators_place_score_the_reference(process_real):
    metric = UtilityMetric()
    scores = metric.compute(process_real, process_real.train, seed=0)
    reference = metric.reference(process_real, 400, seed=0)
    assert set(scores) == CLASSIFICATION
    assert scores == reference and scores["utility_ratio"] == 1.0  # the same rows, the same seed: the same model
    assert scores["utility_accuracy"] > 0.8  # c follows x + y closely


def test_a_target_unrelated_to_the_features_is_useless(process_real):
    rows = process_real.train.copy()
    rows["c"] = rows["c"].sample(frac=1, random_state=0).to_numpy()  # break the link to x and y
    scores = UtilityMetric().compute(process_real, rows, seed=0)
    assert scores["utility_roc_auc"] < 0.65 and scores["utility_ratio"] < 0.75


def test_one_class_rows_give_a_constant_prediction(process_real):
    rows = process_real.train.assign(c="hi")
    scores = UtilityMetric().compute(process_real, rows, seed=0)
    p = float(np.mean(process_real.holdout["c"] == "hi"))
    # always "hi": accuracy p; F1 of "hi" = 2p / (1 + p), of "lo" 0 -> macro-F1 p / (1 + p); constant scores: AUC 0.5
    assert scores["utility_accuracy"] == pytest.approx(p)
    assert scores["utility_macro_f1"] == pytest.approx(p / (1 + p))
    assert scores["utility_roc_auc"] == 0.5


def test_a_numerical_target_is_a_regression(process_real):
    real = dataclasses.replace(process_real, target="y")
    scores = UtilityMetric().compute(real, real.train, seed=0)
    assert set(scores) == {"utility_r2", "utility_rmse", "utility_ratio"} and scores["utility_ratio"] == 1.0
    assert scores["utility_r2"] > 0.6 and 0 < scores["utility_rmse"] < real.holdout["y"].std()


def test_figures_are_repeatable_for_a_seed(process_real, process):
    rows = process(300, 4)
    assert UtilityMetric().compute(process_real, rows, seed=1) == UtilityMetric().compute(process_real, rows, seed=1)


def test_a_missing_or_single_valued_target_is_refused(process_real):
    with pytest.raises(DataError, match="needs a prediction target; pass --target COLUMN"):
        UtilityMetric().check(dataclasses.replace(process_real, target=None))
    one_class = dataclasses.replace(process_real, train=process_real.train.assign(c="lo"))
    with pytest.raises(DataError, match="target 'c' has one value \\('lo'\\) in the training rows"):
        UtilityMetric().check(one_class)


def test_one_number_rows_give_a_constant_prediction(process_real):
    real = dataclasses.replace(process_real, target="y")
    scores = UtilityMetric().compute(real, real.train.assign(y=1.0), seed=0)
    y = real.holdout["y"].to_numpy()
    # always 1.0: R2 = 1 - sum((y - 1)^2) / sum((y - mean)^2), RMSE = sqrt(mean((y - 1)^2))
    assert scores["utility_r2"] == pytest.approx(1 - ((y - 1) ** 2).sum() / ((y - y.mean()) ** 2).sum())
    assert scores["utility_rmse"] == pytest.approx(np.sqrt(((y - 1) ** 2).mean()))
