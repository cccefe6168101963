"""Rich output of the command line: progress bars, tables, JSON."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fuseprune.config import MAX_SEED
from fuseprune.jsonsafe import nan_to_none

out = Console()
err = Console(stderr=True)


class RichProgress:
    """Draws the library's progress reports as rich progress bars on stderr; tasks may nest."""

    def __init__(self, console: Console = err) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("{task.fields[info]}"), console=console, transient=True,
        )
        self._tasks: list[Any] = []

    def start(self, description: str, total: int | None) -> None:
        """Show a new bar (below any bar still running)."""
        if not self._tasks:
            self._progress.start()
        self._tasks.append(self._progress.add_task(description, total=total, info=""))

    def advance(self, n: int = 1, **info: object) -> None:
        """Move the innermost bar and show live figures."""
        text = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in info.items())
        self._progress.update(self._tasks[-1], advance=n, info=text)

    def stop(self) -> None:
        """Remove the innermost bar."""
        self._progress.remove_task(self._tasks.pop())
        if not self._tasks:
            self._progress.stop()


def emit(args: argparse.Namespace, payload: Any, render: Callable[[], Any]) -> None:
    """Print ``payload`` as JSON with ``--json``, else the rich renderable ``render()`` returns."""
    if args.json:
        out.print_json(json.dumps(nan_to_none(payload), default=str, allow_nan=False))
    else:
        out.print(render())


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    """A simple rich table."""
    result = Table(title=title)
    for column in columns:
        result.add_column(column)
    for row in rows:
        result.add_row(*[str(v) for v in row])
    return result


def command_maker(sub: argparse._SubParsersAction) -> Callable[..., argparse.ArgumentParser]:
    """Return ``command(name, func, help)``: adds a sub-parser with ``--json`` that runs ``func``."""

    def command(name: str, func: Callable, help_text: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help_text, description=help_text)
        parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
        parser.set_defaults(func=func)
        return parser

    return command


#: Upper bounds of row counts: sampled rows (streamed to a file), rows sampled per evaluation seed,
#: calibration rows of scoring and planning, rows per timed sampling run.
MAX_SAMPLE_ROWS = 100_000_000
MAX_EVAL_ROWS = 100_000
MAX_CALIBRATION_ROWS = 100_000
MAX_SPEED_ROWS = 100_000


def integer(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer between ``low`` and ``high`` (both included)."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer between {low:,} and {high:,}; got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:,} and {high:,}; got {value:,}")
        return value

    parse.__name__ = "integer"
    return parse


def number(low: float = 0.0, high: float = math.inf, *, low_open: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number in ``[low, high]`` (``(low, high]`` with ``low_open``)."""
    parts = [] if low == -math.inf else [f"greater than {low:g}" if low_open else f"at least {low:g}"]
    parts += [] if high == math.inf else [f"at most {high:g}"]
    bound = " " + " and ".join(parts) if parts else ""

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number{bound}; got {text!r}") from None
        inside = (low < value if low_open else low <= value) and value <= high
        if not math.isfinite(value) or not inside:
            raise argparse.ArgumentTypeError(f"must be a finite number{bound}; got {text!r}")
        return value

    parse.__name__ = "number"
    return parse


seed = integer(0, MAX_SEED)


def seeds(text: str) -> list[int]:
    """An argparse type: comma-separated seeds (integers from 0 to 2**32 - 1)."""
    items = [s for s in text.split(",") if s.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"seeds must be comma-separated integers like 0,1,2; got {text!r}")
    try:
        return [seed(s) for s in items]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"seeds must be comma-separated integers from 0 to {MAX_SEED:,} like "
                                         f"0,1,2; got {text!r}") from None


def names(text: str) -> list[str]:
    """Split a comma-separated list of names."""
    return [n.strip() for n in text.split(",") if n.strip()]


#: Parsers of the loop settings a preset's recipe fills (the same ranges as LoopConfig's checks).
LOOP_TYPES: dict[str, Callable[[str], Any]] = {
    "max_epochs": integer(1, 100_000), "batch_size": integer(1, 1_000_000), "patience": integer(1, 100_000),
    "learning_rate": number(0.0, 1.0, low_open=True), "weight_decay": number(0.0, 1.0),
    "warmup_fraction": number(0.0, 1.0), "max_minutes": number(0.0),
}


def preset_help(distillation: bool = False) -> str:
    """Help of a ``--preset`` option: every preset's shape and training (and distillation) recipe."""
    from fuseprune.presets import PRESETS

    presets = [PRESETS.get(name) for name in PRESETS.names()]
    lines = [p.describe() + (f"; distils {p.distillation.describe()}" if distillation else "") for p in presets]
    return "model size and its recipes. " + ". ".join(lines)


def recipe_default(name: str, recipe: str = "training") -> str:
    """What an option defaults to when its value comes from the preset's ``recipe`` (training or distillation)."""
    from fuseprune.presets import PRESETS

    values = ", ".join(f"{p} {getattr(getattr(PRESETS.get(p), recipe), name):g}" for p in PRESETS.names())
    return f"the preset's {recipe} recipe: {values}"


def add_no_verify(parser: argparse.ArgumentParser) -> None:
    """Add ``--no-verify``: load model folders without checking their weights checksums."""
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="skip the sha256 check of the weights (faster on large models; structure is still checked)",
    )


def load_model(folder: str, args: argparse.Namespace) -> Any:
    """Load a model folder, verifying its checksums unless ``--no-verify``."""
    from fuseprune.tabular import TabularGPT

    return TabularGPT.load(folder, verify=not getattr(args, "no_verify", False))


def data_of(bundle: Any, data: str | None) -> str:
    """The data set a command uses: the one given, else the one the model records."""
    from fuseprune.errors import FusepruneError

    data = data or bundle.info.get("data", {}).get("source")
    if not data:
        raise FusepruneError("the model does not record its data; pass --data NAME_OR_CSV.")
    return data


def add_overwrite(parser: argparse.ArgumentParser, what: str = "--out", help_text: str | None = None) -> None:
    """Add ``--overwrite``: replace an output that fuseprune did not write (see ``fuseprune.outputs``)."""
    parser.add_argument("--overwrite", action="store_true",
                        help=help_text or f"replace {what} even if not written by fuseprune (what is there is "
                                          "deleted); without it only an output fuseprune wrote, unchanged since, "
                                          "is replaced")


def check_apart(**paths: str | None) -> None:
    """Refuse two output folders that are the same or one inside the other.

    Example: ``check_apart(out=..., checkpoint=...)``.
    """
    import os
    from pathlib import Path

    from fuseprune.errors import OutputError

    given = {name: Path(os.path.abspath(p)) for name, p in paths.items() if p}
    names = list(given)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if given[a] == given[b] or given[a] in given[b].parents or given[b] in given[a].parents:
                raise OutputError(f"--{a} and --{b} must be separate folders, neither inside the other; "
                                  f"got {paths[a]!r} and {paths[b]!r}.")


def add_table_options(parser: argparse.ArgumentParser) -> None:
    """The options of a command that reads a table (``--data``): delimiter, dropped columns, column kinds."""
    parser.add_argument("--delimiter", help="CSV field delimiter: one character, or tab/comma/semicolon/pipe "
                        "(default: sniffed among , ; tab |; a model's own table is read as it was for training)")
    parser.add_argument("--drop-column", action="append", metavar="NAME",
                        help="leave this column out (an identifier, a name, free text); repeatable")
    parser.add_argument("--column-type", action="append", metavar="NAME=KIND",
                        help="declare a column's kind (categorical, numerical, boolean), checked against its values; "
                             "a declared column is kept even if it looks like an identifier; repeatable")


def read_options(args: argparse.Namespace) -> Any:
    """The :class:`~fuseprune.data.ReadOptions` of the table options given on the command line."""
    from fuseprune.data import ReadOptions, parse_column_overrides, parse_delimiter

    return ReadOptions(parse_delimiter(args.delimiter), tuple(args.drop_column or ()),
                       parse_column_overrides(args.column_type))


def table_of(bundle: Any, args: argparse.Namespace) -> Any:
    """The table a command on a saved model uses, read as the model records unless told otherwise.

    For the model's own table (no ``--data``, or the source it records), every
    table option not given on the command line (delimiter, dropped columns,
    declared kinds) is the one the model was trained with; for another table,
    only the options given count.
    """
    from fuseprune.data import ReadOptions, load_table

    source = data_of(bundle, args.data)
    record = bundle.info.get("data", {})
    recorded = ReadOptions.from_dict(record.get("read")) if source == record.get("source") else ReadOptions()
    given = read_options(args)
    delimiter = given.delimiter if args.delimiter is not None else recorded.delimiter
    drop_columns = given.drop_columns if args.drop_column else recorded.drop_columns
    column_types = given.column_types if args.column_type else recorded.column_types
    return load_table(source, dict(column_types), delimiter=delimiter, drop_columns=drop_columns)
