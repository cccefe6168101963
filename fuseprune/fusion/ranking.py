"""``fusion-rank``: a pairwise ranking of layers fitted on subset outcomes, not on single-layer impact.

The decision a pruning strategy serves is which k layers to remove together.
So the rank bank records, for every model state (teacher, layers removed so
far) and every layer left, the *outcome* of removing that layer next: the
training-row loss of the best set of k = L/2 layers that includes the layers
already removed and this one (higher = the layer should stay). A pairwise
logistic model learns, from the feature differences of every two layers of a
state, which of them should stay; its coefficients give one keep score per
layer (``w . x``), so ranking is a dot product.

Features: every signal's keep score, the layer's relative depth, the fraction
of layers removed, the layers left (divided by 12), the width (hidden size
divided by 128), and depth times the two counts. Constant features cancel in
a difference; they matter through the products.

On disk the rank bank is a CSV file whose first line records how it was made::

    # fuseprune-rank-bank {"version": 1, "target": "...", ...}
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fuseprune.errors import DataError, NotFittedError, PathNotFoundError
from fuseprune.outputs import BANK, write_output
from fuseprune.scoring import SIGNALS

RANK_BANK_VERSION = 1
RANK_HEADER = "# fuseprune-rank-bank "
STATE_COLUMNS = ("preset", "dataset", "seed", "state")
ID_COLUMNS = (*STATE_COLUMNS, "layer", "model_sha256")
CONTEXT = ("depth", "removed_fraction", "layers_left", "width")
PRODUCTS = (("depth", "removed_fraction"), ("depth", "layers_left"))
OUTCOME = "outcome"


def context_features(num_layers: int, removed_fraction: float, width: int) -> pd.DataFrame:
    """The context features of every layer of a model state (layer order), products included."""
    n = num_layers
    frame = pd.DataFrame({
        "depth": [i / (n - 1) if n > 1 else 0.0 for i in range(n)],
        "removed_fraction": float(removed_fraction),
        "layers_left": n / 12,
        "width": width / 128,
    })
    for a, b in PRODUCTS:
        frame[f"{a}*{b}"] = frame[a] * frame[b]
    return frame


def feature_names(signals: Sequence[str]) -> list[str]:
    """Feature columns of a fit: the signals, the context features, then the products."""
    return [*signals, *CONTEXT, *(f"{a}*{b}" for a, b in PRODUCTS)]


@dataclass(frozen=True)
class RankBank:
    """One row per (preset, data set, seed, state, layer): features and the outcome of removing the layer next.

    Attributes:
        frame: The rows; ``state`` names the original layers already removed (``"3-7"``; ``""`` = intact).
        meta: How the bank was made.
    """

    frame: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        frame = self.frame
        missing = [c for c in (*ID_COLUMNS, *CONTEXT, OUTCOME) if c not in frame.columns]
        if missing:
            raise DataError(f"rank bank lacks column(s) {', '.join(missing)}; rebuild it with "
                            "bench/fusion_rank_bank.py.")
        if len(frame) == 0 or not self.signals:
            raise DataError("rank bank has no rows or no signal columns; rebuild it.")
        numeric = [*self.signals, *CONTEXT, OUTCOME]
        if not all(pd.api.types.is_numeric_dtype(frame[c]) and np.isfinite(frame[c].to_numpy(float)).all()
                   for c in numeric):
            raise DataError("rank bank holds NaNs, infinities or non-numbers in its feature or outcome columns.")

    @property
    def signals(self) -> list[str]:
        """Signal columns, in registry order."""
        return [name for name in SIGNALS.names() if name in self.frame.columns]

    @property
    def datasets(self) -> list[str]:
        """Data sets with rows in the bank, sorted."""
        return sorted(self.frame["dataset"].unique())

    def without(self, dataset: str) -> RankBank:
        """The rows of every data set but ``dataset``."""
        return RankBank(self.frame[self.frame["dataset"] != dataset].reset_index(drop=True), self.meta)

    def contains_model(self, weights_sha256: str) -> bool:
        """Whether any row was measured on the model with these weights (the leakage guard)."""
        return bool((self.frame["model_sha256"] == weights_sha256).any())

    def states(self) -> Iterable[pd.DataFrame]:
        """The rows of each model state, in layer order."""
        for _, rows in self.frame.groupby(list(STATE_COLUMNS), sort=True):
            yield rows.sort_values("layer")

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the bank as CSV with its header line, atomically."""
        header = RANK_HEADER + json.dumps({"version": RANK_BANK_VERSION, **self.meta}, sort_keys=True)
        return write_output(path, header + "\n" + self.frame.to_csv(index=False), BANK, overwrite)

    @classmethod
    def load(cls, path: str | Path) -> RankBank:
        """Read a bank written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise PathNotFoundError(f"rank bank {str(path)!r} does not exist.")
        with path.open("rb") as handle:
            first = handle.readline(64 * 1024).decode("utf-8", errors="replace")
        if not first.startswith(RANK_HEADER):
            raise DataError(f"{str(path)!r} is not a rank bank: its first line must start with "
                            f"{RANK_HEADER.strip()!r}.")
        try:
            meta = json.loads(first[len(RANK_HEADER):])
            frame = pd.read_csv(path, skiprows=1, float_precision="round_trip", encoding="utf-8",
                                dtype={"state": str, "model_sha256": str}, keep_default_na=False)
        except (json.JSONDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
                ValueError) as exc:
            raise DataError(f"rank bank {str(path)!r} cannot be read ({str(exc).splitlines()[0]}).") from None
        if not isinstance(meta, dict) or meta.pop("version", None) != RANK_BANK_VERSION:
            raise DataError(f"rank bank {str(path)!r} has another version; this fuseprune reads "
                            f"{RANK_BANK_VERSION}.")
        return cls(frame, meta)


def preference_pairs(X: np.ndarray, outcome: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Differences ``X[i] - X[j]`` of every ordered pair with different outcomes; label 1 if ``i`` should stay."""
    diffs, labels = [], []
    for i, j in itertools.permutations(range(len(outcome)), 2):
        if outcome[i] != outcome[j]:
            diffs.append(X[i] - X[j])
            labels.append(int(outcome[i] > outcome[j]))
    return np.asarray(diffs, dtype=float).reshape(-1, X.shape[1]), np.asarray(labels, dtype=int)


class PairwiseFusion:
    """Pairwise logistic ranking of layers: ``P(i stays over j) = sigmoid(w . (x_i - x_j))``.

    Args:
        C: Inverse L2 regularisation strength of the logistic regression.
    """

    def __init__(self, C: float = 1.0) -> None:
        self.C = C

    def fit(self, bank: RankBank) -> PairwiseFusion:
        """Fit on every pair of layers of every state of ``bank``."""
        from sklearn.linear_model import LogisticRegression

        names = feature_names(bank.signals)
        blocks = [preference_pairs(_with_products(rows)[names].to_numpy(float), rows[OUTCOME].to_numpy(float))
                  for rows in bank.states()]
        D = np.vstack([d for d, _ in blocks])
        labels = np.concatenate([y for _, y in blocks])
        if len(set(labels)) < 2:
            raise DataError("the rank bank holds no two layers with different outcomes; nothing to learn.")
        model = LogisticRegression(C=self.C, fit_intercept=False, max_iter=5000).fit(D, labels)
        self.feature_names_in_ = names
        self.signal_names_in_ = list(bank.signals)
        self.coef_ = model.coef_[0].copy()
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Keep score of every row (higher = keep): ``w . x``."""
        if not hasattr(self, "coef_"):
            raise NotFittedError("this PairwiseFusion is not fitted yet; call fit(bank) first.")
        frame = _with_products(frame)
        missing = [c for c in self.feature_names_in_ if c not in frame.columns]
        if missing:
            raise DataError(f"fusion input lacks column(s) {', '.join(missing)} that the model was fitted on.")
        return frame[self.feature_names_in_].to_numpy(float) @ self.coef_

    def weights(self) -> Mapping[str, float]:
        """Feature -> coefficient (a positive weight: a higher value makes the layer stay)."""
        return dict(zip(self.feature_names_in_, (float(w) for w in self.coef_), strict=True))


def _with_products(frame: pd.DataFrame) -> pd.DataFrame:
    missing = [(a, b) for a, b in PRODUCTS if f"{a}*{b}" not in frame.columns]
    if not missing:
        return frame
    frame = frame.copy()
    for a, b in missing:
        frame[f"{a}*{b}"] = frame[a] * frame[b]
    return frame
