"""Benchmark: rows/s of saved (compressed) models beside their teacher, at each number of threads.

`fuseprune compress` times every candidate beside the teacher on the threads it
was given (one per candidate with ``--jobs 2`` on two cores, two with one job),
in three runs of one batch each (``--speed-repeats``). This benchmark re-times the
models a search chose (or any saved folders: compressed ones through
``load_compressed``, plain ones too) beside the teacher in ONE process, for each
thread count in turn, alternating rounds at the same batch, with more rows and
rounds, so the speed-up of the chosen model can be read without the search's noise.

    .venv/bin/python bench/compressed_speed.py --teacher runs/seed/teacher --model chosen=runs/compress/best

It refuses to run on a busy machine (load average, or other processes using
CPU) unless ``--force``, which marks the figures as taken on a busy machine.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
from pathlib import Path

import torch
from common import quiet
from machine import announce_load, describe
from rich.console import Console
from rich.table import Table

from fuseprune.explore.candidate import speed_batch, timed_runs
from fuseprune.explore.config import ExploreConfig
from fuseprune.files import write_json_atomic
from fuseprune.tabular import TabularGPT, load_compressed

REPO = Path(__file__).resolve().parent.parent
STATUS = Console(stderr=True, log_path=False)


def arguments() -> argparse.Namespace:
    """The command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", required=True, help="the teacher's model folder")
    parser.add_argument("--model", action="append", required=True, metavar="NAME=DIR",
                        help="a saved model to time beside the teacher (repeatable)")
    parser.add_argument("--threads", default="1,2", help="comma-separated torch thread counts, each timed in turn")
    parser.add_argument("--rows", type=int, default=1024, help="rows per timed run")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (every model once per round)")
    parser.add_argument("--batch-size", type=int, default=0, help="0 = the sampler's default for the teacher")
    parser.add_argument("--max-load", type=float, default=0.5, help="highest 1-minute load average accepted")
    parser.add_argument("--force", action="store_true", help="run on a busy machine; figures are marked busy")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/compressed_speed.json")
    args = parser.parse_args()
    args.threads = [int(t) for t in args.threads.split(",") if t.strip()]
    args.model = [tuple(item.split("=", 1)) for item in args.model]
    if any(len(item) != 2 for item in args.model):
        parser.error("--model must be NAME=DIR")
    return args


def main() -> int:
    """Time the teacher and every model at each thread count; print and save the ratios."""
    args = arguments()
    quiet()
    reasons = announce_load(args.max_load, args.force, STATUS)
    teacher = TabularGPT.load(args.teacher)
    models = [(name, load_compressed(folder)) for name, folder in args.model]
    config = ExploreConfig(model=args.teacher, speed_rows=args.rows, speed_repeats=args.rounds,
                           batch_size=args.batch_size)
    batch = speed_batch(config, teacher)
    table = Table(title=f"rows/s beside the teacher ({args.rows} rows per run, median of {args.rounds} rounds, "
                        f"batch {batch})")
    for column in ("threads", "model", "rows/s", "teacher rows/s", "speed-up"):
        table.add_column(column, justify="right")
    results = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        STATUS.log(f"{threads} thread(s): timing the teacher and {len(models)} model(s), {args.rounds} rounds")
        runs = timed_runs(config, [teacher, *[bundle for _, bundle in models]], batch)
        base = statistics.median(runs[0])
        for (name, _), model_runs in zip(models, runs[1:], strict=True):
            rate = statistics.median(model_runs)
            table.add_row(str(threads), name, f"{rate:,.0f}", f"{base:,.0f}", f"{rate / base:.2f}x")
            results.append({"threads": threads, "model": name, "rows_per_second": rate, "runs": model_runs,
                            "teacher_rows_per_second": base, "teacher_runs": runs[0], "speedup": rate / base})
    Console(width=120).print(table)
    meta = {"command": " ".join(sys.argv), "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "busy": bool(reasons), "busy_reasons": reasons, "rows": args.rows, "rounds": args.rounds,
            "batch_size": batch, **describe()}
    write_json_atomic(args.out, {"meta": meta, "results": results})
    STATUS.print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
