"""LinearFusion: a (ridge) linear regression from signals to a layer's impact; saved as JSON coefficients."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from fuseprune.config import check_range
from fuseprune.errors import DataError, PathNotFoundError
from fuseprune.fusion.base import FusionBase
from fuseprune.outputs import FUSION, write_output_json


class LinearFusion(FusionBase):
    """Predicts a layer's impact as a weighted sum of its keep scores.

    Args:
        alpha: Ridge penalty (0 = ordinary least squares).
    """

    kind = "linear"

    def __init__(self, alpha: float = 1e-3) -> None:
        self.alpha = alpha

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        from sklearn.linear_model import Ridge

        check_range("alpha", self.alpha, 0.0, float("inf"))
        model = Ridge(alpha=self.alpha).fit(X, y)
        self.coef_, self.intercept_ = model.coef_.astype(float), float(model.intercept_)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return X @ self.coef_ + self.intercept_

    def weights(self) -> dict[str, float]:
        """Feature name -> fitted coefficient."""
        self._check_fitted()
        return dict(zip(self.feature_names_in_, map(float, self.coef_), strict=True))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters and coefficients."""
        self._check_fitted()
        return {"kind": self.kind, "alpha": self.alpha, "features": self.feature_names_in_,
                "signals": self.signal_names_in_, "coef": list(map(float, self.coef_)), "intercept": self.intercept_}

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the coefficients as JSON (no pickle), atomically (an existing file as :meth:`PrunePlan.save` says)."""
        return write_output_json(path, self.to_dict(), FUSION, overwrite)

    @classmethod
    def load(cls, path: str | Path) -> LinearFusion:
        """Read coefficients written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise PathNotFoundError(f"fusion model {str(path)!r} does not exist.")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            model = cls(alpha=float(data["alpha"]))
            model.feature_names_in_, model.signal_names_in_ = list(data["features"]), list(data["signals"])
            model.coef_, model.intercept_ = np.asarray(data["coef"], dtype=float), float(data["intercept"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{str(path)!r} is not a saved LinearFusion ({exc}).") from None
        return model
