"""Streaming sampled rows to a CSV or Parquet file that appears complete or not at all.

Rows are written chunk by chunk to a hidden temporary file in the target's
folder, ``.NAME.PID-XXXX.tmp``, renamed to ``NAME`` when the last chunk is in.
An exception, Ctrl-C or SIGTERM (see :func:`terminate_as_interrupt`) removes
the temporary; a SIGKILL leaves only the hidden temporary, which the next
writer of the same name removes once its process is gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pandas as pd

from fuseprune.errors import ConfigError, DataError

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
    to ``path``; leaving it by an exception removes the temporary.

    Args:
        path: The file to write.
        template: A frame with the columns and dtypes of every chunk (one row
            with no missing value), from which the Parquet schema is taken.
    """

    def __init__(self, path: str | Path, template: pd.DataFrame | None = None) -> None:
        self.path = Path(path)
        self.format = file_format(self.path)
        self.template = template
        self.rows = 0
        self._pending: list[pd.DataFrame] = []
        self._handle: Any = None
        self._parquet: Any = None
        self._schema: Any = None

    def __enter__(self) -> RowWriter:
        check_writable(self.path, create=True)
        remove_stale_temporaries(self.path)
        self.temporary = self.path.parent / f".{self.path.name}.{os.getpid()}-{os.urandom(4).hex()}.tmp"
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
                os.chmod(self.temporary, 0o666 & ~_umask())
                os.replace(self.temporary, self.path)
        finally:
            if self._parquet is not None and self._parquet.is_open:
                with contextlib.suppress(Exception):  # failed: its footer goes to a file about to be removed
                    self._parquet.close()
            if self._handle is not None and not self._handle.closed:
                self._handle.close()
            self.temporary.unlink(missing_ok=True)


def check_writable(path: str | Path, *, create: bool = False) -> None:
    """A one-line error unless ``path`` can be written as a new file; ``create`` makes its folder."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"`--out` {str(path)!r} is a folder; name a .csv or .parquet file.")
    existing = next((p for p in [path.parent, *path.parent.parents] if p.exists()), Path.cwd())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        reason = "is not a folder" if not existing.is_dir() else "is not writable"
        raise ConfigError(f"cannot write {str(path)!r}: {str(existing)!r} {reason}; pick another path.")
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove ``.NAME.PID-XXXX.tmp`` files of ``path`` left by writer processes that no longer run."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)-[0-9a-f]+\.tmp$")
    removed = []
    for candidate in path.parent.glob(f".{glob_escape(path.name)}.*.tmp"):
        match = pattern.match(candidate.name)
        if match and not _running(int(match.group(1))):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


def glob_escape(name: str) -> str:
    """``name`` with glob wildcards quoted."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Inside the block, SIGTERM raises KeyboardInterrupt (so temporaries are removed) instead of killing at once.

    Does nothing outside the main thread, where signal handlers cannot be set.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
