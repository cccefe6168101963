"""Reading a CSV file exactly as written, or refusing it with the line at fault.

- The file must be UTF-8 text (a byte-order mark is allowed) with a header row.
- The delimiter is given, or sniffed from the first :data:`SNIFF_CHARS`
  characters among :data:`CANDIDATES`: a candidate *fits* when it splits the
  header into two or more fields and every line of the sample into as many.
  Exactly one fitting candidate is used; several are ambiguous and refused; if
  none fits, the one candidate that splits the header is used (a ragged row
  is then refused below); a header with no candidate at all is one column.
- Every row must have as many fields as the header; extra fields are allowed
  only when empty (a trailing delimiter). Blank lines are skipped.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

from fuseprune.errors import DataError, PathNotFoundError

log = logging.getLogger(__name__)

#: Delimiters the sniffer chooses from, in the order they are named in messages.
CANDIDATES = (",", ";", "\t", "|")
#: Characters read to sniff the delimiter.
SNIFF_CHARS = 64 * 1024
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_ALIASES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


def parse_delimiter(text: str | None) -> str | None:
    """The delimiter ``--delimiter`` names: one character, or tab/comma/semicolon/pipe; None to sniff.

    Raises:
        DataError: It is not one character other than a quote or a line break.
    """
    if text is None or text == "":
        return None
    value = _ALIASES.get(text.lower(), text)
    if len(value) != 1 or value in "\"\r\n":
        raise DataError(f"--delimiter must be one character (or tab, comma, semicolon, pipe); got {text!r}.")
    return value


def delimiter_name(delimiter: str) -> str:
    """How messages name a delimiter: ``';' (semicolon)``."""
    name = _NAMES.get(delimiter)
    return f"{delimiter!r} ({name})" if name else repr(delimiter)


def read_csv(path: str | Path, delimiter: str | None = None) -> tuple[pd.DataFrame, str]:
    """Read a CSV file with a header row; return the rows and the delimiter used.

    Args:
        path: The file.
        delimiter: The field delimiter; None to sniff it (see the module docstring).

    Raises:
        PathNotFoundError: The path is not an existing file.
        DataError: The file is empty, not UTF-8 text, ambiguous, ragged or unparsable.
    """
    path = Path(path)
    where = repr(str(path))
    if path.is_dir():
        raise DataError(f"CSV file {where} is a directory; pass the path of a CSV file.")
    if not path.is_file():
        raise PathNotFoundError(f"CSV file {where} does not exist; check the path.")
    sample = _sample(path)
    sniffed = delimiter is None
    delimiter = sniff_delimiter(sample, where) if delimiter is None else delimiter
    header = check_rows(path, delimiter)
    frame = _parse(path, delimiter, len(header))
    log.info("read %s: %d rows, %d columns, delimiter %s (%s)", path, len(frame), frame.shape[1],
             delimiter_name(delimiter), "sniffed" if sniffed else "given")
    return frame, delimiter


def _sample(path: Path) -> str:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            sample = handle.read(SNIFF_CHARS)
            truncated = bool(handle.read(1))
    except UnicodeDecodeError as exc:
        raise DataError(
            f"CSV file {str(path)!r} is not UTF-8 text (byte {exc.start} of the first "
            f"{SNIFF_CHARS // 1024} KB); save it as UTF-8."
        ) from None
    except OSError as exc:
        raise DataError(
            f"CSV file {str(path)!r} cannot be read ({exc.strerror or exc}); check its permissions."
        ) from None
    if "\x00" in sample:
        raise DataError(f"CSV file {str(path)!r} holds NUL bytes: it is not a text file; pass a CSV file.")
    if not sample.strip():
        raise DataError(f"CSV file {str(path)!r} is empty; it needs a header row and data rows.")
    if truncated:  # the last line of the sample may be cut short
        sample = sample[: sample.rfind("\n") + 1] or sample
    return sample


def sniff_delimiter(sample: str, where: str = "the CSV file") -> str:
    """The delimiter of a CSV sample (its first lines); see the module docstring for the rule.

    Raises:
        DataError: Several candidates fit the sample equally well.
    """
    splitting = []
    fitting = []
    for candidate in CANDIDATES:
        records = [r for _, r in _numbered(csv.reader(io.StringIO(sample), delimiter=candidate))]
        width = len(_trim(records[0])) if records else 0
        if width < 2:
            continue
        splitting.append(candidate)
        if all(_width(r, width) == width for r in records[1:]):
            fitting.append(candidate)
    chosen = fitting if fitting else splitting
    if len(chosen) == 1:
        return chosen[0]
    if not chosen:
        return ","  # one column
    names = " and ".join(delimiter_name(c) for c in chosen)
    raise DataError(f"CSV file {where} could be split by {names} alike; pass --delimiter to say which "
                    f"(e.g. --delimiter '{chosen[0]}').")


def _width(record: list[str], width: int) -> int:
    """Fields of a row, not counting empty fields beyond the header's ``width``."""
    if len(record) > width and not any(field.strip() for field in record[width:]):
        return width
    return len(record)


def check_rows(path: Path, delimiter: str) -> list[str]:
    """Return the header; refuse the first row whose field count differs from it, naming its line."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        try:
            records = _numbered(csv.reader(handle, delimiter=delimiter))
            _, header = next(records, (0, []))
            header = _trim(header)
            for line, record in records:
                fields = _width(record, len(header))
                if fields != len(header):
                    raise DataError(
                        f"CSV file {str(path)!r} line {line} has {fields} fields but the header has {len(header)} "
                        f"(delimiter {delimiter_name(delimiter)}); "
                        "fix that row or quote fields that hold the delimiter."
                    )
        except UnicodeDecodeError:
            raise DataError(f"CSV file {str(path)!r} is not UTF-8 text; save it as UTF-8.") from None
        except csv.Error as exc:
            raise DataError(f"CSV file {str(path)!r} cannot be parsed ({exc}); fix the file.") from None
    if not header:
        raise DataError(f"CSV file {str(path)!r} is empty; it needs a header row and data rows.")
    return header


def _numbered(reader: Iterable[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records with the line each one starts on."""
    start = 1
    for record in reader:
        line, start = start, reader.line_num + 1  # type: ignore[attr-defined]
        if len(record) > 1 or (record and record[0].strip()):  # pandas skips blank lines too
            yield line, record


def _trim(header: list[str]) -> list[str]:
    """The header without empty names after the last named column (a trailing delimiter)."""
    while len(header) > 1 and not header[-1].strip():
        header = header[:-1]
    return header


def _parse(path: Path, delimiter: str, width: int) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, sep=delimiter, index_col=False, usecols=range(width), encoding="utf-8-sig")
        # pandas renames a repeated header ("a", "a" -> "a", "a.1"), so compare the names as written
        header = pd.read_csv(path, sep=delimiter, header=None, nrows=1, dtype=str, keep_default_na=False,
                             usecols=range(width), encoding="utf-8-sig").iloc[0].tolist()
    except pd.errors.EmptyDataError:
        raise DataError(f"CSV file {str(path)!r} is empty; it needs a header row and data rows.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise DataError(f"CSV file {str(path)!r} cannot be parsed ({first}); fix the file.") from None
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if duplicated:
        raise DataError(f"CSV file {str(path)!r} has duplicate column names {duplicated}; rename them.")
    return frame
