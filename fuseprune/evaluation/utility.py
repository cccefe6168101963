"""Machine-learning efficiency: train on synthetic rows, test on real ones (the TabDDPM protocol).

A CatBoost model learns to predict the target column from the other columns,
once from the synthetic rows and once from the real training rows; both are
tested on the real holdout. Classification (a categorical or boolean target):
accuracy, macro-F1 and ROC-AUC (one-vs-rest, averaged over the holdout's
classes); regression (a numerical target): R2 and RMSE. ``utility_ratio`` is
synthetic / real on the main measure (macro-F1, or R2; left out when the real
R2 is not positive). The reference is the model trained on real rows.

CatBoost settings, fixed so runs are fast and repeatable: 200 iterations,
depth 6, CatBoost's automatic learning rate, ``random_seed`` = the sampling
seed (the real model gets the same seed), ``thread_count`` = torch's thread
count, nothing written to disk. Categorical and boolean features are CatBoost
categorical features (as text; missing is the text ``nan``), numbers floats
(CatBoost treats a missing number as smaller than all others). Rows with a
missing target are left out. Synthetic rows with a single class (or a
single number) give a constant prediction (ROC-AUC 0.5, R2 at most 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, mean_squared_error, r2_score, roc_auc_score

from fuseprune.errors import DataError
from fuseprune.evaluation.metric import Figure, Metric, RealRows, register_metric

ITERATIONS = 200
DEPTH = 6
_REAL: dict[tuple[str, int], dict[str, float]] = {}  # (real rows' fingerprint, seed) -> real model's scores


def catboost_threads() -> int:
    """Threads CatBoost may use: torch's setting (so a caller's limit holds), else 2."""
    try:
        import torch

        return max(1, int(torch.get_num_threads()))
    except ImportError:  # pragma: no cover - torch is a dependency
        return 2


@register_metric
class UtilityMetric(Metric):
    """CatBoost trained on synthetic rows and on real training rows, both tested on the holdout."""

    name = "utility"
    rank = 10
    description = "machine-learning efficiency: CatBoost trained on synthetic rows, tested on the real holdout"
    figures = (
        Figure("utility_accuracy", "utility: accuracy", "maximize", 0.0, 1.0),
        Figure("utility_macro_f1", "utility: macro-F1", "maximize", 0.0, 1.0),
        Figure("utility_roc_auc", "utility: ROC-AUC", "maximize", 0.0, 1.0),
        Figure("utility_r2", "utility: R2", "maximize", -np.inf, 1.0),
        Figure("utility_rmse", "utility: RMSE", "minimize", 0.0, np.inf),
        Figure("utility_ratio", "utility: synthetic / real", "maximize", -np.inf, np.inf, 1.0),
    )

    def check(self, real: RealRows) -> None:
        """The target must exist and vary in the training rows."""
        target = _target(real)
        values = real.train[target].dropna()
        if values.nunique() < 2:
            shown = ", ".join(repr(v) for v in values.unique()[:1]) or "no values"
            raise DataError(f"target {target!r} has one value ({shown}) in the training rows; a model "
                            "needs at least two classes (or distinct numbers); pick another --target.")

    def compute(self, real: RealRows, synthetic: pd.DataFrame, seed: int) -> dict[str, float]:
        """Scores of the model trained on ``synthetic`` and their ratio to the real model's."""
        self.check(real)
        scores = _fit_and_score(real, synthetic, seed)
        base = self.reference(real, 0, seed)
        main = "utility_r2" if _is_regression(real) else "utility_macro_f1"
        if base[main] > 0:
            scores["utility_ratio"] = scores[main] / base[main]
        return scores

    def reference(self, real: RealRows, n_rows: int, seed: int) -> dict[str, float]:
        """The model trained on all real training rows (computed once per real rows and seed)."""
        self.check(real)
        key = (real.fingerprint, seed)
        if key not in _REAL:
            if len(_REAL) > 64:
                _REAL.clear()
            _REAL[key] = _fit_and_score(real, real.train, seed)
        scores = dict(_REAL[key])
        main = "utility_r2" if _is_regression(real) else "utility_macro_f1"
        if scores[main] > 0:
            scores["utility_ratio"] = 1.0
        return scores


def _target(real: RealRows) -> str:
    """The column to predict; refused when the real rows name none."""
    if real.target is None:
        raise DataError("the utility metric needs a prediction target; pass --target COLUMN.")
    return real.target


def _is_regression(real: RealRows) -> bool:
    return real.kinds[_target(real)] == "numerical"


def _fit_and_score(real: RealRows, rows: pd.DataFrame, seed: int) -> dict[str, float]:
    target = _target(real)
    categorical = [c for c in real.columns_of("categorical", "boolean") if c != target]
    train, test = rows[rows[target].notna()], real.holdout[real.holdout[target].notna()]
    if len(train) < 2:  # nothing to learn from: every figure is undefined
        names = ("utility_r2", "utility_rmse") if _is_regression(real) else (
            "utility_accuracy", "utility_macro_f1", "utility_roc_auc")
        return dict.fromkeys(names, float("nan"))
    x_train, x_test = _features(train, target, categorical), _features(test, target, categorical)
    if _is_regression(real):
        y_train, y_test = _numbers(train[target]), _numbers(test[target])
        if np.unique(y_train).size < 2:  # a generator that writes one number: predict it
            predicted = np.full(len(y_test), y_train[0])
        else:
            predicted = _regressor(seed, categorical).fit(x_train, y_train).predict(x_test)
        return {"utility_r2": float(r2_score(y_test, predicted)),
                "utility_rmse": float(np.sqrt(mean_squared_error(y_test, predicted)))}
    y_train, y_test = _text(train[target]), _text(test[target])
    classes = sorted(set(y_train))
    if len(classes) < 2:  # a generator that writes one class: predict it
        labels, proba = np.full(len(y_test), classes[0], dtype=object), np.ones((len(y_test), 1))
    else:
        model = _classifier(seed, categorical).fit(x_train, y_train)
        proba = model.predict_proba(x_test)
        classes = [str(c) for c in model.classes_]
        labels = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    return {"utility_accuracy": float(accuracy_score(y_test, labels)),
            "utility_macro_f1": float(f1_score(y_test, labels, average="macro", zero_division=0)),
            "utility_roc_auc": _roc_auc(y_test, proba, classes)}


def _roc_auc(truth: np.ndarray, proba: np.ndarray, classes: list[str]) -> float:
    """One-vs-rest ROC-AUC averaged over the true classes that have positive and negative rows."""
    aucs = []
    for label in sorted(set(truth)):
        positive = truth == label
        if positive.all():
            continue
        score = proba[:, classes.index(label)] if label in classes else np.zeros(len(truth))
        aucs.append(roc_auc_score(positive, score))
    return float(np.mean(aucs)) if aucs else float("nan")


def _features(frame: pd.DataFrame, target: str, categorical: list[str]) -> pd.DataFrame:
    features = frame.drop(columns=[target]).reset_index(drop=True)
    for column in features.columns:
        features[column] = _text(features[column]) if column in categorical else _numbers(features[column])
    return features


def _text(series: pd.Series) -> np.ndarray:
    return np.asarray(["nan" if pd.isna(v) else str(v) for v in series.astype(object)], dtype=object)


def _numbers(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _classifier(seed: int, categorical: list[str]):
    from catboost import CatBoostClassifier

    return CatBoostClassifier(iterations=ITERATIONS, depth=DEPTH, random_seed=seed, thread_count=catboost_threads(),
                              cat_features=categorical, verbose=False, allow_writing_files=False)


def _regressor(seed: int, categorical: list[str]):
    from catboost import CatBoostRegressor

    return CatBoostRegressor(iterations=ITERATIONS, depth=DEPTH, random_seed=seed, thread_count=catboost_threads(),
                             cat_features=categorical, verbose=False, allow_writing_files=False)
