"""Loading a table by name or from a CSV file, and the fixed train/holdout split."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fuseprune.config import DEFAULT_HOLDOUT as DEFAULT_HOLDOUT
from fuseprune.data.catalog import DATASETS
from fuseprune.data.columns import apply_column_types, check_identifiers, infer_column_kinds
from fuseprune.data.csvfile import read_csv
from fuseprune.errors import DataError, UnknownNameError


@dataclass(frozen=True)
class ReadOptions:
    """How a table is read: what a model records so later commands read its table the same way.

    Attributes:
        delimiter: The CSV field delimiter; None to sniff it (a loaded table
            records the one used; None for bundled data sets).
        drop_columns: Columns left out (identifiers, free text).
        column_types: Declared kinds (name -> kind); a declared column is never
            called an identifier.
    """

    delimiter: str | None = None
    drop_columns: tuple[str, ...] = ()
    column_types: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``fuseprune.json`` records under ``data.read``)."""
        return {"delimiter": self.delimiter, "drop_columns": list(self.drop_columns),
                "column_types": dict(self.column_types)}

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any] | None) -> ReadOptions:
        """Inverse of :meth:`to_dict`; an absent record means the defaults."""
        payload = payload or {}
        return cls(payload.get("delimiter"), tuple(payload.get("drop_columns") or ()),
                   dict(payload.get("column_types") or {}))


@dataclass(frozen=True)
class Table:
    """A loaded table with the kind of every column.

    Attributes:
        name: The data set name, or the CSV path it came from.
        frame: The rows.
        kinds: Column name -> ``categorical`` / ``numerical`` / ``boolean``.
        read: How it was read (with the delimiter actually used).
    """

    name: str
    frame: pd.DataFrame = field(repr=False)
    kinds: dict[str, str]
    read: ReadOptions = field(default_factory=ReadOptions)

    def split(self, holdout: float = DEFAULT_HOLDOUT, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Return the seeded (train, holdout) split of the rows; see :func:`split_frame`."""
        return split_frame(self.frame, holdout, seed)

    @cached_property
    def sha256(self) -> str:
        """Hash of the content: column names and kinds in order, then every row as canonical CSV text."""
        return table_sha256(self.frame, self.kinds)


def table_sha256(frame: pd.DataFrame, kinds: Mapping[str, str]) -> str:
    r"""The sha256 of a table's columns, their kinds and its rows (written as CSV with ``\n`` line ends).

    The file a table came from, its delimiter and its row index do not count:
    two files holding the same rows hash alike.
    """
    digest = hashlib.sha256()
    header = [[str(c), kinds.get(str(c), "")] for c in frame.columns]
    digest.update(json.dumps(header, ensure_ascii=False).encode("utf-8"))
    digest.update(frame.to_csv(index=False, header=False, lineterminator="\n").encode("utf-8"))
    return digest.hexdigest()


def load_table(
    source: str | Path,
    column_kinds: Mapping[str, str] | None = None,
    *,
    delimiter: str | None = None,
    drop_columns: Sequence[str] = (),
) -> Table:
    """Load a bundled data set by name, or a CSV file by path, and check it.

    Args:
        source: A name from ``fuseprune datasets`` or a path to a CSV file.
        column_kinds: Declared kinds (name -> kind), checked against the values.
        delimiter: The CSV delimiter; None to sniff it (see :mod:`fuseprune.data.csvfile`).
        drop_columns: Columns to leave out.

    Raises:
        UnknownNameError: ``source`` is neither a bundled name nor an existing file.
        DataError: The CSV is empty, unreadable, ambiguous or ragged; a column
            looks like a row identifier; or a declared kind does not fit the values.
    """
    text, declared = str(source), dict(column_kinds or {})
    if text in DATASETS:
        if delimiter is not None:
            raise DataError(f"--delimiter applies to CSV files; {text!r} is a bundled data set: leave it out.")
        frame = DATASETS.get(text).load()
    elif Path(text).suffix.lower() == ".csv" or Path(text).exists():
        frame, delimiter = read_csv(Path(text), delimiter)
    else:
        known = ", ".join(DATASETS.names())
        raise UnknownNameError(
            f"unknown data set {text!r}: not a bundled name and no such file; "
            f"bundled: {known}; or pass the path of a CSV file."
        )
    frame = drop(frame, drop_columns, text)
    check_frame(frame, text)
    frame = apply_column_types(frame, declared)
    check_identifiers(frame, text, declared)
    read = ReadOptions(delimiter, tuple(drop_columns), declared)
    return Table(text, frame, infer_column_kinds(frame, declared), read)


def drop(frame: pd.DataFrame, columns: Sequence[str], name: str) -> pd.DataFrame:
    """``frame`` without ``columns``; each must be one of its columns."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"--drop-column names {', '.join(map(repr, missing))}, not a column of {name!r}; "
                        f"columns are: {', '.join(map(str, frame.columns))}.")
    return frame.drop(columns=list(columns)).reset_index(drop=True) if columns else frame


def check_frame(frame: pd.DataFrame, name: str) -> None:
    """Reject tables no model can learn from: no rows, duplicate or empty columns."""
    if frame.shape[1] == 0 or len(frame) < 10:
        raise DataError(
            f"table {name!r} has {len(frame)} rows and {frame.shape[1]} columns; "
            "it needs at least 10 rows and 1 column."
        )
    duplicated = frame.columns[frame.columns.duplicated()].tolist()
    if duplicated:
        raise DataError(f"table {name!r} has duplicate column names {duplicated}; rename them.")
    empty = [str(c) for c in frame.columns if frame[c].isna().all()]
    if empty:
        drops = " ".join(f"--drop-column {c}" for c in empty)
        raise DataError(f"table {name!r} has columns with no values at all: {', '.join(empty)}; drop them ({drops}).")


def split_frame(
    frame: pd.DataFrame, holdout: float = DEFAULT_HOLDOUT, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
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
