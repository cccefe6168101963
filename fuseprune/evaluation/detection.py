"""Detection (classifier two-sample tests): can a classifier tell synthetic rows from real holdout rows?

Both figures follow SDMetrics' detection protocol: label holdout rows 1 and
synthetic rows 0, fit a classifier in 3-fold stratified cross-validation, and
report ``1 - mean(2 * max(AUC, 0.5) - 1)`` over the folds. 1 means the
classifier does no better than chance (the rows cannot be told apart), 0 that
it separates them perfectly.

- ``logistic_detection``: SDMetrics ``LogisticDetection`` (logistic regression
  on one-hot categories and raw numbers), the C2ST that TabSyn and TabDiff
  report. The categories are one-hot encoded here, over the values of both
  frames (SDMetrics' own encoder knows only the real rows' values and fails
  on any other). Being linear, it barely sees a generator that keeps every column's
  distribution but breaks the relations between columns.
- ``gbdt_detection``: the same protocol with a CatBoost classifier (100
  iterations, depth 4, seeded), which does see such broken relations.

The fold split is seeded with the sampling seed, so figures are repeatable.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from fuseprune.evaluation.frames import numpy_seed, plain_frame
from fuseprune.evaluation.metric import Figure, Metric, RealRows, register_metric
from fuseprune.evaluation.utility import catboost_threads

FOLDS = 3


def logistic_detection(real: pd.DataFrame, synthetic: pd.DataFrame, kinds, seed: int) -> float:
    """SDMetrics ``LogisticDetection`` of ``synthetic`` against ``real`` (1 = indistinguishable)."""
    from sdmetrics.single_table import LogisticDetection

    real, synthetic = one_hot(plain_frame(real, kinds), plain_frame(synthetic, kinds), kinds)
    metadata = {"columns": {name: {"sdtype": "numerical"} for name in real.columns}}
    with warnings.catch_warnings(), numpy_seed(seed):
        warnings.simplefilter("ignore")
        return float(LogisticDetection.compute(real, synthetic, metadata))


def one_hot(real: pd.DataFrame, synthetic: pd.DataFrame, kinds) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Categorical columns as 0/1 columns over the values of both frames, numbers as they are.

    SDMetrics one-hot encodes categories itself, but only those of the real
    rows, and fails on a synthetic value the real rows lack; encoding over both
    frames gives the classifier the same columns and lets such a value count
    as the giveaway it is.
    """
    both = pd.concat([real, synthetic], ignore_index=True)
    columns = []
    for i, (name, kind) in enumerate(kinds.items()):
        if kind == "numerical":
            columns.append(both[[name]].set_axis([f"c{i}"], axis=1))
        else:
            dummies = pd.get_dummies(both[name], dtype=float)
            columns.append(dummies.set_axis([f"c{i}_{j}" for j in range(dummies.shape[1])], axis=1))
    encoded = pd.concat(columns, axis=1)
    return encoded.iloc[:len(real)].reset_index(drop=True), encoded.iloc[len(real):].reset_index(drop=True)


def gbdt_detection(real: pd.DataFrame, synthetic: pd.DataFrame, kinds, seed: int) -> float:
    """The detection protocol with a CatBoost classifier (1 = indistinguishable)."""
    from catboost import CatBoostClassifier

    features = plain_frame(pd.concat([real, synthetic], ignore_index=True), kinds)
    categorical = [name for name, kind in kinds.items() if kind != "numerical"]
    labels = np.r_[np.ones(len(real)), np.zeros(len(synthetic))]
    scores = []
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(features, labels):
        model = CatBoostClassifier(iterations=100, depth=4, random_seed=seed, thread_count=catboost_threads(),
                                   cat_features=categorical, verbose=False, allow_writing_files=False)
        model.fit(features.iloc[train], labels[train])
        auc = roc_auc_score(labels[test], model.predict_proba(features.iloc[test])[:, 1])
        scores.append(2 * max(auc, 0.5) - 1)
    return float(1 - np.mean(scores))


@register_metric
class DetectionMetric(Metric):
    """Classifier two-sample tests of synthetic rows against the holdout (higher = harder to tell apart)."""

    name = "detection"
    rank = 30
    description = "classifier two-sample tests against the holdout: SDMetrics LogisticDetection and CatBoost"
    figures = (
        Figure("logistic_detection", "detection: logistic (SDMetrics)", "maximize", 0.0, 1.0, 1.0),
        Figure("gbdt_detection", "detection: CatBoost classifier", "maximize", 0.0, 1.0, 1.0),
    )

    def compute(self, real: RealRows, synthetic: pd.DataFrame, seed: int) -> dict[str, float]:
        """Both detection scores of ``synthetic`` against the holdout rows."""
        return {"logistic_detection": logistic_detection(real.holdout, synthetic, real.kinds, seed),
                "gbdt_detection": gbdt_detection(real.holdout, synthetic, real.kinds, seed)}
