"""FusionBank: the table fusion models learn from.

One row per (data set, seed, pruning step, layer), with the weights hash of
the model in that state (so a model whose rows are in the bank is recognised
and not ranked by a fusion fitted on itself). Each row holds every
signal's keep score for that layer, normalised within its model state (the
model after ``step`` layers were removed), the layer's relative depth in that
state, the fraction of the original layers already removed, and the target:
the measured impact of removing that layer from that state (increase in
holdout NLL per row), raw (``impact``) and normalised within the state like a
keep score (``target``: 1 = the layer whose removal hurts most).

On disk it is a CSV file whose first line records how it was made::

    # fuseprune-bank {"version": 1, "preset": "default", "datasets": [...], ...}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fuseprune.errors import DataError, PathNotFoundError
from fuseprune.outputs import BANK, write_output
from fuseprune.scoring import SIGNALS

BANK_VERSION = 1
HEADER_PREFIX = "# fuseprune-bank "
ID_COLUMNS = ("dataset", "seed", "step", "layer", "model_sha256")
CONTEXT_FEATURES = ("depth", "removed_fraction")
TARGET, IMPACT = "target", "impact"
STATE = ("dataset", "seed", "step")


@dataclass(frozen=True)
class FusionBank:
    """Rows of (signals, context, measured impact) that fusion models are fitted on.

    Attributes:
        frame: One row per (dataset, seed, step, layer).
        meta: How the bank was made (preset, data sets, seeds, command, ...).
    """

    frame: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_bank_frame(self.frame)

    @property
    def signals(self) -> list[str]:
        """Signal columns, in registry order."""
        return [name for name in SIGNALS.names() if name in self.frame.columns]

    @property
    def datasets(self) -> list[str]:
        """Data sets with rows in the bank, sorted."""
        return sorted(self.frame["dataset"].unique())

    def features(self, signals: Sequence[str] | None = None) -> list[str]:
        """Feature columns for fitting: the signals, then the context features."""
        return list(signals or self.signals) + list(CONTEXT_FEATURES)

    def contains_model(self, weights_sha256: str) -> bool:
        """Whether any row was measured on the model with these weights (the leakage guard)."""
        return bool((self.frame["model_sha256"] == weights_sha256).any())

    def only(self, datasets: Iterable[str]) -> FusionBank:
        """The rows of the given data sets."""
        return FusionBank(self.frame[self.frame["dataset"].isin(list(datasets))].reset_index(drop=True), self.meta)

    def without(self, dataset: str) -> FusionBank:
        """The rows of every data set but ``dataset`` (for leave-one-dataset-out fits)."""
        return FusionBank(self.frame[self.frame["dataset"] != dataset].reset_index(drop=True), self.meta)

    def states(self) -> Iterable[tuple[tuple[Any, ...], pd.DataFrame]]:
        """(dataset, seed, step) and the rows of that model state, layer order."""
        for key, rows in self.frame.groupby(list(STATE), sort=True):
            yield key, rows.sort_values("layer")

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the bank as CSV with its header line, atomically (an existing file as :meth:`PrunePlan.save` says)."""
        header = HEADER_PREFIX + json.dumps({"version": BANK_VERSION, **self.meta}, sort_keys=True)
        return write_output(path, header + "\n" + self.frame.to_csv(index=False), BANK, overwrite)

    @classmethod
    def load(cls, path: str | Path) -> FusionBank:
        """Read a bank written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise PathNotFoundError(
                f"fusion bank {str(path)!r} does not exist; build one with `fuseprune fuse build-bank`."
            )
        meta = _read_header(path)
        try:
            frame = pd.read_csv(path, skiprows=1, float_precision="round_trip", encoding="utf-8")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
            raise DataError(f"fusion bank {str(path)!r} cannot be read ({str(exc).splitlines()[0]}).") from None
        try:
            return cls(frame, meta)
        except DataError as exc:
            raise DataError(f"fusion bank {str(path)!r}: {exc}") from None


def _read_header(path: Path) -> dict[str, Any]:
    """The metadata of the bank's first line, checked: a UTF-8 header naming this bank version."""
    with path.open("rb") as handle:
        raw = handle.readline(64 * 1024)
    shape = f"its first line must start with {HEADER_PREFIX.strip()!r}"
    if raw.startswith(b"\x1f\x8b"):
        raise DataError(f"{str(path)!r} is not a fusion bank but a gzip-compressed file; decompress it first.")
    try:
        first = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{str(path)!r} is not a fusion bank ({shape}; it is not UTF-8 text).") from None
    if not first.startswith(HEADER_PREFIX):
        raise DataError(f"{str(path)!r} is not a fusion bank: {shape}.")
    try:
        meta = json.loads(first[len(HEADER_PREFIX):])
    except json.JSONDecodeError as exc:
        raise DataError(f"fusion bank {str(path)!r} has a damaged header line ({exc.msg}).") from None
    if not isinstance(meta, dict) or meta.get("version") != BANK_VERSION:
        version = meta.get("version") if isinstance(meta, dict) else meta
        raise DataError(f"fusion bank {str(path)!r} has version {version!r}; this fuseprune reads {BANK_VERSION}.")
    meta.pop("version")
    return meta


def check_bank_frame(frame: pd.DataFrame) -> None:
    """Raise a one-line DataError naming the columns if ``frame`` is not a usable bank."""
    required = [*ID_COLUMNS, *CONTEXT_FEATURES, IMPACT, TARGET]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(
            f"fusion bank lacks column(s) {', '.join(missing)}; rebuild it with `fuseprune fuse build-bank`."
        )
    signals = [c for c in frame.columns if c in SIGNALS]
    if not signals:
        raise DataError(f"fusion bank has no signal columns; known signals: {', '.join(SIGNALS.names())}.")
    if len(frame) == 0:
        raise DataError("fusion bank has no rows.")
    numeric = [*signals, *CONTEXT_FEATURES, IMPACT, TARGET]
    broken = [c for c in numeric if not _finite_numbers(frame[c])]
    if broken:
        raise DataError(f"fusion bank column(s) {', '.join(broken)} hold NaNs, infinities or non-numbers; "
                        "rebuild or clean them.")
    counters = [c for c in ("seed", "step", "layer") if not pd.api.types.is_integer_dtype(frame[c])
                or (frame[c] < 0).any()]
    if counters:
        raise DataError(f"fusion bank column(s) {', '.join(counters)} must hold non-negative integers.")
    repeated = frame.duplicated(["dataset", "seed", "step", "layer"])
    if repeated.any():
        row = frame[repeated].iloc[0]
        raise DataError(f"fusion bank holds layer {row['layer']} of step {row['step']} of {row['dataset']}/"
                        f"{row['seed']} twice; remove the repeated rows.")


def _finite_numbers(column: pd.Series) -> bool:
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    return numeric and bool(np.isfinite(column.to_numpy(dtype=float)).all())


def state_rows(
    dataset: str, seed: int, step: int, original_layers: Sequence[int], keep: Mapping[str, Sequence[float]],
    impact: Sequence[float], total_layers: int, model_sha256: str = "",
) -> pd.DataFrame:
    """Bank rows of one model state.

    Args:
        dataset: Data set name.
        seed: Teacher seed.
        step: Layers removed so far.
        original_layers: Original index of each current layer, in order.
        keep: Signal name -> keep score of each current layer.
        impact: Measured increase in holdout NLL per row when each layer alone is removed.
        total_layers: Layer count of the unpruned model.
        model_sha256: Weights hash of the model in this state (for the leakage guard).
    """
    from fuseprune.scoring import normalise

    n = len(original_layers)
    frame = pd.DataFrame({
        "dataset": dataset, "seed": seed, "step": step, "layer": list(original_layers), "model_sha256": model_sha256,
        **{name: list(values) for name, values in keep.items()},
        "depth": [i / (n - 1) if n > 1 else 0.0 for i in range(n)],
        "removed_fraction": step / total_layers,
        IMPACT: list(impact),
        TARGET: list(normalise(impact, "maximize")),
    })
    return frame


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman rank correlation of two equal-length vectors (0 when either is constant)."""
    ra, rb = pd.Series(a).rank().to_numpy(), pd.Series(b).rank().to_numpy()
    if np.std(ra) == 0 or np.std(rb) == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])
