"""Commands about fusion banks: build-bank, validate."""

from __future__ import annotations

import argparse

from fuseprune.app_config import BankConfig
from fuseprune.cli.config_options import add_config_options, config_from_args
from fuseprune.cli.output import (
    MAX_CALIBRATION_ROWS,
    RichProgress,
    add_overwrite,
    command_maker,
    emit,
    integer,
    out,
    seeds,
    table,
)

#: BankConfig fields the build-bank command exposes (``--field-name``).
BANK_FIELDS = ("datasets", "seeds", "preset", "calibration_rows", "teachers")


def cmd_build_bank(args: argparse.Namespace) -> None:
    """Build (or resume) a fusion bank along the ablation oracle's path on many teachers."""
    from fuseprune.outputs import BANK, check_file
    from fuseprune.tabular.bank import BankConfig, build_bank

    check_file(args.out, BANK, overwrite=True, option="--out")  # the path; build_bank checks what is there
    config = config_from_args(BankConfig, args, BANK_FIELDS)
    bank = build_bank(config, args.out, progress=RichProgress(), overwrite=args.overwrite)
    payload = {"out": args.out, "rows": len(bank.frame), "datasets": bank.datasets, "signals": bank.signals}
    rows = [("bank", args.out), ("rows", len(bank.frame)), ("data sets", ", ".join(bank.datasets)),
            ("seeds", ", ".join(map(str, config.seeds))), ("signals", len(bank.signals))]
    emit(args, payload, lambda: table("fusion bank", ["", ""], rows))


def cmd_validate(args: argparse.Namespace) -> None:
    """Leave-one-dataset-out validation of every strategy on a bank."""
    from fuseprune.fusion import DEFAULT_BANK, FusionBank, validate

    result = validate(FusionBank.load(args.bank or DEFAULT_BANK))
    summary = result.summary()
    emit(args, {"summary": summary, "table": result.table.to_dict(orient="records")}, lambda: result)
    if not args.json:
        beats = ", ".join(summary["fusion-rf_beats_best_single_on"]) or "none"
        out.print(
            f"mean Spearman: forest fusion {summary['fusion-rf']:+.3f}, linear fusion {summary['fusion-lr']:+.3f}, "
            f"random {summary['random']:+.3f}, average single signal {summary['average_single_signal']:+.3f}, "
            f"best single signal ({summary['best_single_signal']}) {summary['best_single_signal_spearman']:+.3f}. "
            f"Forest fusion beats the best single signal of a data set on: {beats}."
        )


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add ``fuseprune fuse build-bank`` and ``fuseprune fuse validate``."""
    fuse = sub.add_parser(
        "fuse", help="fusion banks and their validation", description="fusion banks and their validation"
    )
    command = command_maker(fuse.add_subparsers(dest="fuse_command", required=True, metavar="FUSE_COMMAND"))

    p = command("build-bank", cmd_build_bank, "build (or resume) a fusion bank along the ablation oracle's path")
    add_config_options(p, BankConfig, BANK_FIELDS,
                       types={"seeds": seeds, "calibration_rows": integer(1, MAX_CALIBRATION_ROWS)},
                       limits={"calibration_rows": f"at most {MAX_CALIBRATION_ROWS:,}"})
    p.add_argument("--out", required=True, help="bank CSV to write (resumed if it exists)")
    add_overwrite(p, help_text="start a new bank at --out, replacing the file there (a bank or not) "
                               "instead of resuming it")
    p = command("validate", cmd_validate, "leave-one-dataset-out validation of every strategy on a bank")
    p.add_argument("bank", nargs="?", help="bank CSV (default: the shipped bank)")
