"""The compress command: search compression methods and their combinations, keep the fastest model at the target."""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from typing import Any

from fuseprune.cli.config_options import add_config_options, config_from_args
from fuseprune.cli.output import MAX_SPEED_ROWS, emit, err, integer, number, seeds, table
from fuseprune.explore.config import ExploreConfig

#: ExploreConfig fields the command exposes (``--field-name``), in the order of its help.
SEARCH_FIELDS = ("data", "methods", "target_quality", "depth", "depth_strategy", "sparsity", "svd", "tucker", "tt",
                 "combine", "heal_epochs", "heal_minutes", "quality_seeds", "speed_rows", "speed_repeats",
                 "batch_size")


def numbers(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Callable[[str], list]:
    """An argparse type: comma-separated numbers, each within ``low`` .. ``high`` (open ends as told)."""
    bound = f"{'above' if low_open else 'at least'} {low:g} and {'below' if high_open else 'at most'} {high:g}"

    def parse(text: str) -> list[float]:
        items = [item.strip() for item in text.split(",") if item.strip()]
        try:
            values = [float(item) for item in items]
        except ValueError:
            values = []
        inside = [math.isfinite(v) and (low < v if low_open else low <= v) and (v < high if high_open else v <= high)
                  for v in values]
        if not values or not all(inside):
            raise argparse.ArgumentTypeError(f"must be comma-separated numbers, each {bound}; got {text!r}")
        return values

    parse.__name__ = "numbers"
    return parse


def integers(low: int, high: int) -> Callable[[str], list]:
    """An argparse type: comma-separated integers, each within ``low`` .. ``high``."""
    one = integer(low, high)

    def parse(text: str) -> list[int]:
        items = [item for item in text.split(",") if item.strip()]
        try:
            return [one(item) for item in items] if items else one("")  # type: ignore[return-value]
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(f"must be comma-separated integers, each between {low:,} and "
                                             f"{high:,}; got {text!r}") from None

    parse.__name__ = "integers"
    return parse


def cmd_compress(args: argparse.Namespace) -> None:
    """Run (or resume) a compression search on a teacher; save the fastest model at the target quality."""
    from fuseprune.cli.compare_commands import GridDisplay
    from fuseprune.explore.runner import run_search
    from fuseprune.lifetime import Terminated, sigterm_raises, threads_per_job
    from fuseprune.outputs import COMPRESSION, check_folder

    check_folder(args.out, COMPRESSION, option="--out")
    config = config_from_args(ExploreConfig, args, SEARCH_FIELDS, model=args.model)
    if not config.data:
        config = ExploreConfig.from_dict({**config.to_dict(), "data": _recorded_data(args.model)})
    start = time.perf_counter()
    try:
        with sigterm_raises():
            summary = run_search(config, args.out, backend=args.backend, jobs=args.jobs, ray_address=args.ray_address,
                                 threads=args.threads or threads_per_job(args.jobs), keep_models=args.keep_models,
                                 progress=None if args.json else GridDisplay())
    except Terminated:
        err.print(f"terminated (SIGTERM): workers stopped; every measured candidate is in {args.out}, run the same "
                  "command again to resume.", highlight=False, soft_wrap=True)
        raise SystemExit(143) from None
    minutes = (time.perf_counter() - start) / 60
    payload = {"out": args.out, "candidates": summary.candidates, "already_measured": summary.skipped,
               "measured_now": summary.computed, "chosen": summary.chosen,
               "best": None if summary.best is None else str(summary.best),
               "report": None if summary.report is None else str(summary.report), "minutes": round(minutes, 2)}
    rows: list[tuple[str, Any]] = [
        ("results", args.out), ("candidates", summary.candidates),
        ("already measured before this run", summary.skipped), ("measured now", summary.computed),
        ("chosen", summary.chosen or f"none reached {config.target_quality:g} of the teacher's quality"),
        ("saved to", summary.best or "-"), ("report", summary.report or "-"), ("wall time", f"{minutes:.1f} min")]
    emit(args, payload, lambda: table("compression search", ["", ""], rows))


def _recorded_data(model: str) -> str:
    """The data set the model records (its ``fuseprune.json``); refused if it records none."""
    from fuseprune.cli.output import data_of
    from fuseprune.tabular import TabularGPT

    return data_of(TabularGPT.load(model, verify=False), None)


def add_parsers(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add ``fuseprune compress``."""
    p = command("compress", cmd_compress, "search compression methods (depth, sparsity, svd, tucker, tt, int8) and "
                "their combinations; save the fastest model that keeps the target quality")
    p.add_argument("model", metavar="MODEL", help="the teacher's model folder")
    fraction = numbers(0.0, 1.0, low_open=True)
    ranks = integers(1, 100_000)
    add_config_options(p, ExploreConfig, SEARCH_FIELDS, helps={"data": "bundled data set or CSV the teacher was "
                                                               "trained on (default: the one the model records)"},
                       types={"target_quality": number(0.0, 1.0, low_open=True), "depth": fraction,
                              "sparsity": numbers(0.0, 1.0, high_open=True), "svd": fraction, "tucker": ranks,
                              "tt": ranks, "combine": integer(0, 100), "heal_epochs": integer(0, 1000),
                              "heal_minutes": number(0.0), "quality_seeds": seeds,
                              "speed_rows": integer(0, MAX_SPEED_ROWS), "speed_repeats": integer(1, 1000),
                              "batch_size": integer(0, 1_000_000)})
    p.add_argument("--out", required=True, help="results folder (resumed if it holds the same search); the chosen "
                                                "model goes to OUT/best, the report to OUT/report")
    p.add_argument("--jobs", type=integer(1, 256), default=1, help="candidates measured at once, at most 256 "
                                                                   "(default: 1; rows/s is fairest with 1)")
    p.add_argument("--threads", type=integer(0, 1024), default=0,
                   help="torch threads of each candidate's work, rows/s included (default 0: the machine's cores "
                        "divided by --jobs); speed-ups depend on it, so compare folders measured alike")
    p.add_argument("--backend", default="local", help="local (worker processes) or ray (default: local)")
    p.add_argument("--ray-address", help="host:port of an existing Ray cluster (default: start a local one)")
    p.add_argument("--keep-models", action="store_true",
                   help="keep every candidate that reached the target in OUT/models (default: only the chosen one)")
