"""ForestFusion: a seeded random forest from signals to a layer's impact.

It is never pickled: it is saved as its parameters plus the bank it was
fitted on (path and SHA-256), and refitted from that bank with the same seed,
which gives the same forest.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from fuseprune.errors import DataError, PathNotFoundError
from fuseprune.fusion.bank import FusionBank
from fuseprune.fusion.base import FusionBase
from fuseprune.outputs import FUSION, write_output_json


class ForestFusion(FusionBase):
    """Predicts a layer's impact with a random forest, which can learn interactions between signals.

    Args:
        n_estimators: Number of trees.
        min_samples_leaf: Smallest number of rows in a leaf.
        max_features: Fraction of features tried at each split.
        random_state: Seed; the same seed and bank give the same forest.
    """

    kind = "forest"

    def __init__(
        self, n_estimators: int = 300, min_samples_leaf: int = 3, max_features: float = 0.5, random_state: int = 0
    ) -> None:
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.random_state = random_state

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        from sklearn.ensemble import RandomForestRegressor

        self.forest_ = RandomForestRegressor(
            n_estimators=self.n_estimators, min_samples_leaf=self.min_samples_leaf,
            max_features=self.max_features, random_state=self.random_state, n_jobs=1,
        ).fit(X, y)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return self.forest_.predict(X)

    def params(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {"n_estimators": self.n_estimators, "min_samples_leaf": self.min_samples_leaf,
                "max_features": self.max_features, "random_state": self.random_state}

    def save(self, path: str | Path, bank_path: str | Path, overwrite: bool = False) -> Path:
        """Write parameters and the bank's path and hash as JSON (the forest is refitted on load)."""
        self._check_fitted()
        payload = {"kind": self.kind, "params": self.params(), "features": self.feature_names_in_,
                   "bank": str(bank_path), "bank_sha256": file_sha256(bank_path)}
        return write_output_json(path, payload, FUSION, overwrite)

    @classmethod
    def load(cls, path: str | Path) -> ForestFusion:
        """Refit the forest described by :meth:`save` from its bank (refused if the bank changed)."""
        path = Path(path)
        if not path.is_file():
            raise PathNotFoundError(f"fusion model {str(path)!r} does not exist.")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            model, bank_path, features = cls(**data["params"]), Path(data["bank"]), list(data["features"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DataError(f"{str(path)!r} is not a saved ForestFusion ({exc}).") from None
        if file_sha256(bank_path) != data.get("bank_sha256"):
            raise DataError(f"the bank {str(bank_path)!r} changed since the forest was saved; refit it.")
        bank = FusionBank.load(bank_path)
        model.fit(bank.frame[features], bank.frame["target"])
        return model


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (empty string if it does not exist)."""
    path = Path(path)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
