"""The command line's one exception boundary: every error becomes one ``error: ...`` line on stderr.

- Errors fuseprune raises on purpose (:class:`~fuseprune.errors.FusepruneError`),
  argument mistakes and the known errors of the libraries underneath (files
  that cannot be read or written, damaged JSON, safetensors, CSV or text) are
  input mistakes: one line, exit code 2.
- Anything else is a bug or an unforeseen condition: one line naming its type,
  with a hint to rerun with ``-v``, which also prints the traceback; exit code 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from typing import NoReturn

from rich.text import Text

from fuseprune.cli.output import err
from fuseprune.errors import FusepruneError

#: Exit codes: an input mistake (refused), an unexpected error.
REFUSED, UNEXPECTED = 2, 1


class UsageError(FusepruneError, ValueError):
    """The command line itself is wrong: an unknown command or option, a missing or malformed value."""


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose mistakes raise :class:`UsageError` instead of printing usage and exiting.

    Sub-parsers inherit the class, so every command behaves the same; ``--help``
    and ``--version`` still print and exit as usual.
    """

    def error(self, message: str) -> NoReturn:
        """Raise the mistake as one line with a pointer to the help."""
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) collapsed to one space."""
    return " ".join(str(text).split())


def known_message(exc: BaseException) -> str | None:
    """The one-line message of an input mistake, or None if ``exc`` is unexpected."""
    if isinstance(exc, FusepruneError):
        return str(exc)
    if isinstance(exc, UnicodeDecodeError):
        return f"a file is not UTF-8 text (byte {exc.start} cannot be decoded as {exc.encoding})."
    if isinstance(exc, json.JSONDecodeError):
        return f"a file is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})."
    if isinstance(exc, OSError):
        return _os_message(exc)
    if isinstance(exc, MemoryError):
        return "out of memory; ask for fewer rows or a smaller model."
    return _library_message(exc)


def _library_message(exc: BaseException) -> str | None:
    """Known errors of safetensors and pandas (looked up only if loaded: they cannot have raised otherwise)."""
    safetensors = sys.modules.get("safetensors")
    if safetensors is not None and isinstance(exc, safetensors.SafetensorError):
        return f"a safetensors file is damaged ({exc})."
    pandas_errors = sys.modules.get("pandas.errors")
    if pandas_errors is not None and isinstance(exc, pandas_errors.ParserError | pandas_errors.EmptyDataError):
        return f"a CSV file cannot be read ({exc})."
    return None


def _os_message(exc: OSError) -> str:
    if exc.filename is None:
        return str(exc)
    what = exc.strerror or type(exc).__name__
    target = f" -> {str(exc.filename2)!r}" if exc.filename2 is not None else ""
    return f"{what}: {str(exc.filename)!r}{target}."


def report(exc: BaseException, verbose: bool) -> int:
    """Print ``exc`` as one ``error:`` line (plus the traceback with ``verbose``); return the exit code."""
    message = known_message(exc)
    code = REFUSED if message is not None else UNEXPECTED
    if message is None:
        hint = "" if verbose else " (rerun with -v for the traceback)"
        message = f"unexpected {type(exc).__name__}: {exc}{hint}"
    if verbose:
        err.print(Text("".join(traceback.format_exception(exc)).rstrip()), highlight=False, soft_wrap=True)
    err.print(Text.assemble(("error:", "red"), " ", one_line(message)), highlight=False, soft_wrap=True)
    return code
