"""Rich output of the command line: progress bars, tables, JSON."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

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
        out.print_json(json.dumps(payload, default=str))
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


def seeds(text: str) -> list[int]:
    """argparse type: comma-separated integers."""
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds must be comma-separated integers like 0,1,2; got {text!r}") from None


def names(text: str) -> list[str]:
    """Split a comma-separated list of names."""
    return [n.strip() for n in text.split(",") if n.strip()]


def preset_help(distillation: bool = False) -> str:
    """Help of a ``--preset`` option: every preset's shape and training (and distillation) recipe."""
    from fuseprune.presets import PRESETS

    presets = [PRESETS.get(name) for name in PRESETS.names()]
    lines = [p.describe() + (f"; distils {p.distillation.describe()}" if distillation else "") for p in presets]
    return "model size and its recipes (default: %(default)s). " + ". ".join(lines)


def recipe_help(name: str, recipe: str = "training", text: str | None = None) -> str:
    """Help of an option whose default comes from the preset's ``recipe`` (training or distillation).

    ``text`` says what the option is; by default the help of the LoopConfig field ``name``.
    """
    from dataclasses import fields

    from fuseprune.config import LoopConfig
    from fuseprune.presets import PRESETS

    text = text or next(f.metadata["help"] for f in fields(LoopConfig) if f.name == name)
    values = ", ".join(f"{p} {getattr(getattr(PRESETS.get(p), recipe), name):g}" for p in PRESETS.names())
    return f"{text} (default: the preset's {recipe} recipe: {values})"


def data_of(bundle: Any, data: str | None) -> str:
    """The data set a command uses: the one given, else the one the model records."""
    from fuseprune.errors import FusepruneError

    data = data or bundle.info.get("data", {}).get("source")
    if not data:
        raise FusepruneError("the model does not record its data; pass --data NAME_OR_CSV.")
    return data
