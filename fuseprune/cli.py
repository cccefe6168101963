"""The `fuseprune` command line: argument parsing and rich output only; the work is in the library.

Every command prints a rich table, or JSON with ``--json``. Bad input ends with
a one-line ``error: ...`` on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fuseprune import __version__
from fuseprune.errors import FusepruneError

out = Console()
err = Console(stderr=True)


class RichProgress:
    """Draws the library's progress reports as a rich progress bar on stderr."""

    def __init__(self, console: Console = err) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("{task.fields[info]}"), console=console, transient=True,
        )
        self._task: Any = None

    def start(self, description: str, total: int | None) -> None:
        """Show a new bar."""
        self._progress.start()
        self._task = self._progress.add_task(description, total=total, info="")

    def advance(self, n: int = 1, **info: object) -> None:
        """Move the bar and show live figures."""
        text = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in info.items())
        self._progress.update(self._task, advance=n, info=text)

    def stop(self) -> None:
        """Remove the bar."""
        self._progress.stop()
        self._progress.remove_task(self._task)


def _emit(args: argparse.Namespace, payload: Any, render: Callable[[], Any]) -> None:
    if args.json:
        out.print_json(json.dumps(payload, default=str))
    else:
        out.print(render())


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[str(v) for v in row])
    return table


def cmd_datasets(args: argparse.Namespace) -> None:
    """List the bundled data sets."""
    from fuseprune.data import DATASETS

    infos = [DATASETS.get(name) for name in DATASETS.names()]
    payload = [{"name": i.name, "source": i.source, "description": i.description} for i in infos]
    rows = [(i.name, i.source, i.description) for i in infos]
    _emit(args, payload, lambda: _table("bundled data sets (all offline)", ["name", "source", "description"], rows))


def cmd_train(args: argparse.Namespace) -> None:
    """Train a model on a table's training split and save it."""
    from fuseprune.data import load_table, parse_column_overrides
    from fuseprune.tabular import TrainConfig, train_on_table

    table = load_table(args.data, parse_column_overrides(args.column_type))
    config = TrainConfig(preset=args.preset, seed=args.seed, max_epochs=args.max_epochs, max_minutes=args.max_minutes)
    bundle = train_on_table(table, config, holdout=args.holdout, split_seed=args.split_seed, progress=RichProgress())
    bundle.save(args.out)
    history = bundle.info["history"]
    payload = {"model_dir": args.out, "parameters": bundle.num_parameters, **history}
    rows = [("model folder", args.out), ("parameters", f"{bundle.num_parameters:,}"),
            ("epochs", len(history["val_loss"])), ("best epoch", history["best_epoch"] + 1),
            ("best validation NLL per row", f"{min(history['val_loss']):.4f}"),
            ("stopped by", history["stopped"]), ("seconds", f"{history['seconds']:.1f}")]
    _emit(args, payload, lambda: _table(f"trained {args.preset} on {args.data}", ["", ""], rows))


def cmd_sample(args: argparse.Namespace) -> None:
    """Sample rows from a saved model."""
    from fuseprune.files import write_text_atomic
    from fuseprune.tabular import TabularGPT, sample_rows

    bundle = TabularGPT.load(args.model_dir)
    rows = sample_rows(bundle, args.rows, seed=args.seed, temperature=args.temperature, progress=RichProgress())
    if args.out:
        write_text_atomic(args.out, rows.to_csv(index=False))
    payload = {"rows": len(rows), "out": args.out, "head": json.loads(rows.head(10).to_json(orient="records"))}
    preview = rows.head(10).astype(str)
    _emit(args, payload, lambda: _table(f"{len(rows)} sampled rows" + (f" -> {args.out}" if args.out else " (first 10)"),
                                        list(preview.columns), preview.values.tolist()))


def cmd_evaluate(args: argparse.Namespace) -> None:
    """Evaluate a saved model against the holdout split it never trained on."""
    from fuseprune.data import load_table
    from fuseprune.evaluation import EvalConfig, evaluate
    from fuseprune.tabular import TabularGPT, split_of

    bundle = TabularGPT.load(args.model_dir)
    table = load_table(_data_of(bundle, args.data))
    train, holdout = split_of(bundle, table)
    config = EvalConfig(seeds=tuple(args.seeds), n_rows=args.rows)
    record = evaluate(bundle, train, holdout, config, data_name=table.name, progress=RichProgress())
    if args.out:
        record.save(args.out)
    _emit(args, record.to_dict(), lambda: record)


def cmd_score(args: argparse.Namespace) -> None:
    """Score every layer of a saved model with importance signals."""
    from fuseprune.data import load_table
    from fuseprune.scoring import score_tabular
    from fuseprune.tabular import TabularGPT, split_of

    bundle = TabularGPT.load(args.model_dir)
    table = load_table(_data_of(bundle, args.data))
    train, _ = split_of(bundle, table)
    signals = None if args.signals in (None, "all") else [s.strip() for s in args.signals.split(",") if s.strip()]
    scores = score_tabular(bundle, train, signals, n_rows=args.rows, batch_size=args.batch_size,
                           seed=args.seed, progress=RichProgress())
    if args.out:
        (scores.to_json if args.out.endswith(".json") else scores.to_csv)(args.out)
    _emit(args, scores.to_dict(), lambda: scores)


def cmd_fuse_build_bank(args: argparse.Namespace) -> None:
    """Build (or resume) a fusion bank along the ablation oracle's path on many teachers."""
    from fuseprune.fusion.build import BankConfig, build_bank

    config = BankConfig(datasets=tuple(_names(args.datasets)), seeds=tuple(args.seeds), preset=args.preset,
                        calibration_rows=args.calibration_rows, teachers=args.teachers)
    bank = build_bank(config, args.out, progress=RichProgress())
    payload = {"out": args.out, "rows": len(bank.frame), "datasets": bank.datasets, "signals": bank.signals}
    rows = [("bank", args.out), ("rows", len(bank.frame)), ("data sets", ", ".join(bank.datasets)),
            ("seeds", ", ".join(map(str, config.seeds))), ("signals", len(bank.signals))]
    _emit(args, payload, lambda: _table("fusion bank", ["", ""], rows))


def cmd_fuse_validate(args: argparse.Namespace) -> None:
    """Leave-one-dataset-out validation of every strategy on a bank."""
    from fuseprune.fusion import FusionBank, validate

    result = validate(FusionBank.load(args.bank))
    payload = {"summary": result.summary(), "table": result.table.to_dict(orient="records")}
    _emit(args, payload, lambda: result)
    if not args.json:
        summary = result.summary()
        out.print(f"forest fusion {summary['fusion-rf']:+.3f}, linear fusion {summary['fusion-lr']:+.3f}, "
                  f"random {summary['random']:+.3f}, average single signal {summary['average_single_signal']:+.3f}, "
                  f"best single signal {summary['best_single_signal']} {summary['best_single_signal_spearman']:+.3f}; "
                  f"forest beats the best single signal on: {', '.join(summary['fusion-rf_beats_best_single_on']) or 'none'}")


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def _data_of(bundle: Any, data: str | None) -> str:
    data = data or bundle.info.get("data", {}).get("source")
    if not data:
        raise FusepruneError("the model does not record its data; pass --data NAME_OR_CSV.")
    return data


def cmd_run(args: argparse.Namespace) -> None:
    """The main job: train (or reuse) the teacher on the data and evaluate it."""
    from fuseprune.pipeline import RunConfig, run_main

    config = RunConfig(data=args.data, preset=args.preset, seed=args.seed, out=args.out, retrain=args.retrain)
    result = run_main(config, progress=RichProgress())
    payload = {"teacher_dir": str(result.teacher_dir), "reused_teacher": result.reused_teacher,
               "evaluation": result.evaluation.to_dict(), "config": asdict(config)}
    verb = "reused" if result.reused_teacher else "trained"
    _emit(args, payload, lambda: result.evaluation)
    if not args.json:
        out.print(f"teacher {verb}: {result.teacher_dir}; record: {config.out}/evaluation.json")


def _seeds(text: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds must be comma-separated integers like 0,1,2; got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of every command."""
    from fuseprune.data import DEFAULT_DATASET, DEFAULT_HOLDOUT
    from fuseprune.tabular import PRESETS, TrainConfig

    parser = argparse.ArgumentParser(prog="fuseprune", description="Layer pruning with fused importance signals for tabular transformers.")
    parser.add_argument("--version", action="version", version=f"fuseprune {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--json", action="store_true", help="print JSON instead of tables")
        p.set_defaults(func=func)
        return p

    command("datasets", cmd_datasets, "list the bundled data sets")
    p = command("train", cmd_train, "train a tabular model on a data set's training split")
    p.add_argument("--data", default=DEFAULT_DATASET, help="bundled data set name or CSV path (default: %(default)s)")
    p.add_argument("--preset", default="default", choices=PRESETS.names(), help="model size (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help=TrainConfig.help_of("seed"))
    p.add_argument("--max-epochs", type=int, default=TrainConfig.max_epochs, help=TrainConfig.help_of("max_epochs"))
    p.add_argument("--max-minutes", type=float, default=0.0, help=TrainConfig.help_of("max_minutes"))
    p.add_argument("--holdout", type=float, default=DEFAULT_HOLDOUT, help="fraction of rows held out (default: %(default)s)")
    p.add_argument("--split-seed", type=int, default=0, help="seed of the train/holdout split (default: %(default)s)")
    p.add_argument("--column-type", action="append", metavar="NAME=KIND", help="override a column's kind (categorical, numerical, boolean); repeatable")
    p.add_argument("--out", required=True, help="model folder to write")
    p = command("sample", cmd_sample, "sample rows from a saved model")
    p.add_argument("model_dir", help="model folder")
    p.add_argument("--rows", type=int, default=100, help="rows to sample (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default: %(default)s)")
    p.add_argument("--temperature", type=float, default=1.0, help="softmax temperature (default: %(default)s)")
    p.add_argument("--out", help="CSV file to write")
    p = command("evaluate", cmd_evaluate, "evaluate a saved model against its real holdout split")
    p.add_argument("model_dir", help="model folder")
    p.add_argument("--data", help="data set name or CSV (default: the one the model records)")
    p.add_argument("--seeds", type=_seeds, default=[0, 1, 2], help="sampling seeds, comma-separated (default: 0,1,2)")
    p.add_argument("--rows", type=int, default=0, help="rows sampled per seed (default: the training split size, at most 2000)")
    p.add_argument("--out", help="JSON file for the evaluation record")
    p = command("score", cmd_score, "score every layer of a saved model with importance signals")
    p.add_argument("model_dir", help="model folder")
    p.add_argument("--data", help="data set name or CSV for calibration rows (default: the one the model records)")
    p.add_argument("--signals", default="all", help="comma-separated signal names, or all (see the list in the README)")
    p.add_argument("--rows", type=int, default=256, help="calibration rows from the training split (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=64, help="calibration rows per pass (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the row sample and projections (default: %(default)s)")
    p.add_argument("--out", help="write the score table to this .csv or .json file")
    fuse = sub.add_parser("fuse", help="fusion banks and their validation", description="fusion banks and their validation")
    fuse_sub = fuse.add_subparsers(dest="fuse_command", required=True, metavar="FUSE_COMMAND")
    from fuseprune.fusion.build import BankConfig, DEFAULT_BANK_DATASETS

    p = fuse_sub.add_parser("build-bank", help="build or resume a fusion bank", description=cmd_fuse_build_bank.__doc__)
    p.set_defaults(func=cmd_fuse_build_bank)
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.add_argument("--datasets", default=",".join(DEFAULT_BANK_DATASETS), help="comma-separated data sets (default: ten bundled sets)")
    p.add_argument("--seeds", type=_seeds, default=[0, 1], help=BankConfig.help_of("seeds"))
    p.add_argument("--preset", default="default", choices=PRESETS.names(), help=BankConfig.help_of("preset"))
    p.add_argument("--calibration-rows", type=int, default=256, help=BankConfig.help_of("calibration_rows"))
    p.add_argument("--teachers", default="runs/teachers", help=BankConfig.help_of("teachers"))
    p.add_argument("--out", required=True, help="bank CSV to write (resumed if it exists)")
    p = fuse_sub.add_parser("validate", help="leave-one-dataset-out validation of every strategy", description=cmd_fuse_validate.__doc__)
    p.set_defaults(func=cmd_fuse_validate)
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.add_argument("bank", help="bank CSV")
    p = command("run", cmd_run, "the main job: train (or reuse) the default model on the default data and evaluate it")
    p.add_argument("--data", default=DEFAULT_DATASET, help="bundled data set name or CSV path (default: %(default)s)")
    p.add_argument("--preset", default="default", choices=PRESETS.names(), help="model size (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="training seed (default: %(default)s)")
    p.add_argument("--out", default="runs/default", help="run folder (default: %(default)s)")
    p.add_argument("--retrain", action="store_true", help="train a new teacher even if the run folder has one")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(message)s", handlers=[RichHandler(console=err, show_path=False)])
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        args.func(args)
    except FusepruneError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
