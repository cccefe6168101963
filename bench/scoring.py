"""Benchmark: scoring every signal in one shared pass vs one plain forward+backward vs the naive way.

On the `default` model and 256 calibration rows (batches of 64) it prints, from
one run: the time of one plain forward+backward pass over the rows, the time
of scoring all signals together (the target is at most 3x the plain pass), and
the time of computing each signal with its own passes, as a naive
implementation would.

    .venv/bin/python bench/scoring.py [--model-dir runs/default/teacher] [--repeats 3]
"""

from __future__ import annotations

import argparse

from common import median_seconds, quiet, teacher
from rich.console import Console
from rich.table import Table

from fuseprune.data import load_table
from fuseprune.scoring import SIGNALS
from fuseprune.tabular import calibration_batches, score_tabular, split_of, tabular_loss_fn


def main() -> None:
    """Run the benchmark described at the top of this file and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="breast-cancer-wisconsin")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--model-dir", default="runs/default/teacher", help="reuse (or create) this teacher")
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    quiet()
    bundle = teacher(args.data, args.preset, args.model_dir)
    train, _ = split_of(bundle, load_table(args.data))
    batches = calibration_batches(bundle.codec, train, args.rows, args.batch_size)
    loss_fn = tabular_loss_fn(bundle.codec)

    def plain() -> None:
        for batch in batches:
            bundle.model.zero_grad(set_to_none=True)
            loss_fn(bundle.model(input_ids=batch["input_ids"]).logits, batch).backward()
        bundle.model.zero_grad(set_to_none=True)

    def score(signals):
        return lambda: score_tabular(bundle, train, signals, n_rows=args.rows, batch_size=args.batch_size)

    base = median_seconds(plain, args.repeats)
    shared = median_seconds(score(None), args.repeats)
    naive = {name: median_seconds(score([name]), args.repeats) for name in SIGNALS.names()}
    _print(args, bundle, base, shared, naive)


def _print(args, bundle, base: float, shared: float, naive: dict[str, float]) -> None:
    layers = bundle.model.config.n_layer
    title = (f"scoring {len(naive)} signals on the {args.preset} model ({layers} layers), "
             f"{args.rows} rows in batches of {args.batch_size}; median of {args.repeats}")
    table = Table(title=title)
    for column in ("what", "seconds", "x plain pass"):
        table.add_column(column, justify="right")
    table.add_row("one plain forward+backward pass", f"{base:.3f}", "1.00")
    table.add_row("all signals, shared pass", f"{shared:.3f}", f"{shared / base:.2f}")
    table.add_row("all signals, naive (sum below)", f"{sum(naive.values()):.3f}", f"{sum(naive.values()) / base:.2f}")
    for name, seconds in naive.items():
        table.add_row(f"  {name} alone", f"{seconds:.3f}", f"{seconds / base:.2f}")
    Console().print(table)
    Console().print(
        f"shared / plain = {shared / base:.2f} (target <= 3); naive / shared = {sum(naive.values()) / shared:.2f}"
    )


if __name__ == "__main__":
    main()
