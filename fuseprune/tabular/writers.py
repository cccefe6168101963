"""Streaming sampled rows to a CSV or Parquet file that appears complete or not at all.

Rows are written chunk by chunk to a hidden temporary file in the target's
folder (:func:`fuseprune.outputs.output_file`), renamed to the file's name and
marked as fuseprune's when the last chunk is in. An exception, Ctrl-C or
SIGTERM (turned into an exception by the command line) removes the temporary; a SIGKILL
leaves only the hidden temporary, which the next write of the same name removes.
"""

from __future__ import annotations

import contextlib
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pandas as pd

from fuseprune.errors import ConfigError, DataError
from fuseprune.outputs import SAMPLES, output_file

#: File formats by extension.
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
#: Parquet rows per row group: chunks are gathered up to this many before they are written.
ROW_GROUP_ROWS = 65_536


def file_format(path: str | Path) -> str:
    """``csv`` or ``parquet`` from the file extension; anything else is refused."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise ConfigError(f"`--out` must end in {known} to pick the file format; got {str(path)!r}.")
    if FORMATS[suffix] == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ConfigError("writing Parquet needs pyarrow; install it with: pip install pyarrow.") from None
    return FORMATS[suffix]


class RowWriter:
    """Writes DataFrame chunks to ``path`` (CSV or Parquet by extension) through a hidden temporary.

    Use as a context manager: leaving the block normally renames the temporary
    to ``path`` (marked as fuseprune's sampled rows); leaving it by an exception
    removes the temporary. The path is checked as every output is
    (:func:`fuseprune.outputs.check_file`) before anything is written.

    Args:
        path: The file to write.
        template: A frame with the columns and dtypes of every chunk (one row
            with no missing value), from which the Parquet schema is taken.
        overwrite: Replace a file that fuseprune did not write.
    """

    def __init__(self, path: str | Path, template: pd.DataFrame | None = None, overwrite: bool = False) -> None:
        self.path = Path(path)
        self.format = file_format(self.path)
        self.template = template
        self.overwrite = overwrite
        self.rows = 0
        self._pending: list[pd.DataFrame] = []
        self._handle: Any = None
        self._parquet: Any = None
        self._schema: Any = None
        self._stack = ExitStack()

    def __enter__(self) -> RowWriter:
        self.temporary = self._stack.enter_context(output_file(self.path, SAMPLES, self.overwrite))
        csv = self.format == "csv"
        self._handle = open(self.temporary, "w" if csv else "wb", newline="" if csv else None)
        return self

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame``."""
        if self.format == "csv":
            frame.to_csv(self._handle, header=self.rows == 0, index=False)
        else:
            self._pending.append(frame)
            if sum(len(f) for f in self._pending) >= ROW_GROUP_ROWS:
                self._flush_parquet()
        self.rows += len(frame)

    def _flush_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self._pending:
            return
        frame = pd.concat(self._pending, ignore_index=True) if len(self._pending) > 1 else self._pending[0]
        self._pending = []
        if self._schema is None:
            sample = frame if self.template is None else pd.concat([self.template, frame], ignore_index=True)
            try:
                self._schema = pa.Schema.from_pandas(sample, preserve_index=False)
            except (pa.ArrowException, ValueError) as exc:
                raise DataError(f"the rows cannot be written as Parquet ({exc}); write a .csv file instead.") from None
            self._parquet = pq.ParquetWriter(self._handle, self._schema)
        try:
            self._parquet.write_table(pa.Table.from_pandas(frame, schema=self._schema, preserve_index=False))
        except (pa.ArrowException, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(f"the rows cannot be written as Parquet ({first}); write a .csv file instead.") from None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        try:
            if kind is None:
                if self.format == "parquet":
                    self._flush_parquet()
                    if self._parquet is None:  # no rows at all: still a valid file with the columns
                        self._pending = [self.template.iloc[:0]] if self.template is not None else []
                        self._flush_parquet()
                if self._parquet is not None:
                    self._parquet.close()
                self._handle.close()
        finally:
            if self._parquet is not None and self._parquet.is_open:
                with contextlib.suppress(Exception):  # failed: its footer goes to a file about to be removed
                    self._parquet.close()
            if self._handle is not None and not self._handle.closed:
                self._handle.close()
            self._stack.__exit__(kind, error, trace)  # renames (success) or removes (failure) the temporary
