"""What linear and forest fusion share: the estimator contract and turning inputs into features.

A fusion model predicts each layer's normalised impact (1 = removing it hurts
most) from its signals' keep scores and two context features, the layer's
relative depth and the fraction of layers already removed. It follows the
scikit-learn estimator contract: ``__init__`` stores arguments only, ``fit``
returns ``self``, learned state ends in ``_``, and predicting before fitting
raises :class:`~fuseprune.errors.NotFittedError`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fuseprune.errors import DataError, NotFittedError
from fuseprune.fusion.bank import CONTEXT_FEATURES, TARGET, FusionBank
from fuseprune.scoring import ScoreTable


class FusionBase:
    """Shared behaviour of :class:`LinearFusion` and :class:`ForestFusion`."""

    def fit(self, X: FusionBank | pd.DataFrame, y: Any = None) -> FusionBase:
        """Fit on a bank (features and target taken from it) or on a feature frame and target."""
        if isinstance(X, FusionBank):
            frame, y = X.frame[X.features()], X.frame[TARGET]
        else:
            frame = X
        if y is None:
            raise DataError("fit needs a target: pass a FusionBank or (features, target).")
        self.feature_names_in_ = list(frame.columns)
        self.signal_names_in_ = [c for c in frame.columns if c not in CONTEXT_FEATURES]
        self._fit(frame.to_numpy(dtype=float), np.asarray(y, dtype=float))
        return self

    def predict(self, X: ScoreTable | pd.DataFrame, removed_fraction: float = 0.0) -> np.ndarray:
        """Predicted normalised impact of every layer (higher = keep).

        Args:
            X: A score table of one model state, or a frame with the fitted feature columns.
            removed_fraction: Fraction of the original layers already removed (score tables only).
        """
        self._check_fitted()
        frame = features_of(X, self.signal_names_in_, removed_fraction) if isinstance(X, ScoreTable) else X
        missing = [c for c in self.feature_names_in_ if c not in frame.columns]
        if missing:
            raise DataError(f"fusion input lacks column(s) {', '.join(missing)} that the model was fitted on.")
        return self._predict(frame[self.feature_names_in_].to_numpy(dtype=float))

    def _check_fitted(self) -> None:
        if not hasattr(self, "feature_names_in_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(bank) first.")

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        raise NotImplementedError

    def _predict(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def features_of(table: ScoreTable, signals: list[str], removed_fraction: float = 0.0) -> pd.DataFrame:
    """Feature frame of one model state: keep score of each signal, depth and removed fraction."""
    missing = [s for s in signals if s not in table]
    if missing:
        raise DataError(
            f"the score table lacks signal(s) {', '.join(missing)} that the fusion model needs; "
            "score the model with them (or with all signals)."
        )
    n = table.num_layers
    frame = pd.DataFrame({s: list(table[s].keep) for s in signals})
    frame["depth"] = [i / (n - 1) if n > 1 else 0.0 for i in range(n)]
    frame["removed_fraction"] = removed_fraction
    return frame
