"""The `fuseprune` command line: argument parsing and rich output only; the work is in the library.

Every command prints a rich table, or JSON with ``--json``. Bad input ends with
a one-line ``error: ...`` on stderr and exit code 2, and writes nothing.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from rich.logging import RichHandler

from fuseprune.cli import (
    compare_commands,
    compress_commands,
    fuse_commands,
    model_commands,
    prune_commands,
    rtf_commands,
)
from fuseprune.cli.boundary import Parser, UsageError, report
from fuseprune.cli.output import command_maker, err
from fuseprune.lifetime import Terminated, sigterm_raises
from fuseprune.progress import quiet_transformers
from fuseprune.version import __version__


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of every command."""
    parser = Parser(
        prog="fuseprune", description="Layer pruning with fused importance signals for tabular transformers."
    )
    parser.add_argument("--version", action="version", version=f"fuseprune {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    command = command_maker(sub)
    model_commands.add_parsers(command)
    prune_commands.add_parsers(command)
    rtf_commands.add_parsers(command)
    compare_commands.add_parsers(command)
    compress_commands.add_parsers(command)
    fuse_commands.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Returns:
        0 done, 2 refused input, 1 unexpected error, 130 interrupted, 143 terminated.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        return report(exc, verbose=False)
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(message)s", handlers=[RichHandler(console=err, show_path=False)])
    try:
        quiet_transformers()
        with sigterm_raises():  # SIGTERM unwinds like Ctrl-C, so temporaries are removed and workers stopped
            args.func(args)
    except Terminated:
        err.print("terminated (SIGTERM)")
        return 143
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except Exception as exc:  # the one boundary: every error becomes one line (see fuseprune.cli.boundary)
        return report(exc, args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
