"""Loading a table by name or from a CSV file, and the fixed train/holdout split."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fuseprune.data.catalog import DATASETS
from fuseprune.data.columns import infer_column_kinds
from fuseprune.errors import DataError, PathNotFoundError, UnknownNameError

DEFAULT_HOLDOUT = 0.2


@dataclass(frozen=True)
class Table:
    """A loaded table with the kind of every column.

    Attributes:
        name: The data set name, or the CSV path it came from.
        frame: The rows.
        kinds: Column name -> ``categorical`` / ``numerical`` / ``boolean``.
    """

    name: str
    frame: pd.DataFrame = field(repr=False)
    kinds: dict[str, str]

    def split(self, holdout: float = DEFAULT_HOLDOUT, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Return the seeded (train, holdout) split of the rows; see :func:`split_frame`."""
        return split_frame(self.frame, holdout, seed)


def load_table(source: str | Path, column_kinds: Mapping[str, str] | None = None) -> Table:
    """Load a bundled data set by name, or a CSV file by path.

    Args:
        source: A name from ``fuseprune datasets`` or a path to a ``.csv`` file.
        column_kinds: Overrides for inferred column kinds (name -> kind).

    Raises:
        UnknownNameError: ``source`` is neither a bundled name nor an existing file.
        DataError: The CSV is empty or unreadable, or an override is invalid.
    """
    text = str(source)
    if text in DATASETS:
        frame = DATASETS.get(text).load()
    elif Path(text).suffix.lower() == ".csv" or Path(text).exists():
        frame = read_csv(Path(text))
    else:
        known = ", ".join(DATASETS.names())
        raise UnknownNameError(
            f"unknown data set {text!r}: not a bundled name and no such file; "
            f"bundled: {known}; or pass the path of a CSV file."
        )
    check_frame(frame, text)
    return Table(text, frame, infer_column_kinds(frame, column_kinds))


def read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV file with a header row, turning pandas' errors into one-line messages."""
    if not path.is_file():
        raise PathNotFoundError(f"CSV file {str(path)!r} does not exist; check the path.")
    try:
        frame = pd.read_csv(path)
        # pandas renames a repeated header ("a", "a" -> "a", "a.1"), so read the names as written
        header = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False).iloc[0].tolist()
    except pd.errors.EmptyDataError:
        raise DataError(f"CSV file {str(path)!r} is empty; it needs a header row and data rows.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise DataError(f"CSV file {str(path)!r} cannot be parsed ({first}); fix the file.") from None
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if duplicated:
        raise DataError(f"CSV file {str(path)!r} has duplicate column names {duplicated}; rename them.")
    return frame


def check_frame(frame: pd.DataFrame, name: str) -> None:
    """Reject tables no model can learn from: no rows, duplicate or empty columns."""
    if frame.shape[1] == 0 or len(frame) < 10:
        raise DataError(f"table {name!r} has {len(frame)} rows and {frame.shape[1]} columns; it needs at least 10 rows and 1 column.")
    duplicated = frame.columns[frame.columns.duplicated()].tolist()
    if duplicated:
        raise DataError(f"table {name!r} has duplicate column names {duplicated}; rename them.")
    empty = [str(c) for c in frame.columns if frame[c].isna().all()]
    if empty:
        raise DataError(f"table {name!r} has columns with no values at all: {', '.join(empty)}; drop them.")


def split_frame(frame: pd.DataFrame, holdout: float = DEFAULT_HOLDOUT, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows into (train, holdout) by a seeded permutation; the same seed gives the same split.

    Args:
        frame: The rows.
        holdout: Fraction of rows held out, strictly between 0 and 1.
        seed: Seed of the permutation.
    """
    if not 0.0 < holdout < 1.0:
        raise DataError(f"holdout must be between 0 and 1 (exclusive); got {holdout}.")
    order = np.random.default_rng(seed).permutation(len(frame))
    n_holdout = int(round(len(frame) * holdout))
    if n_holdout < 1 or n_holdout >= len(frame):
        raise DataError(f"holdout {holdout} of {len(frame)} rows leaves an empty split; change --holdout.")
    hold = frame.iloc[np.sort(order[:n_holdout])].reset_index(drop=True)
    train = frame.iloc[np.sort(order[n_holdout:])].reset_index(drop=True)
    return train, hold
