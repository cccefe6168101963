"""Benchmark: quality and training time of a teacher trained with default options.

Trains the chosen preset on each data set (default options, seed 0), then
evaluates it: SDMetrics quality as the mean of three sampling seeds, beside the
ceiling (real training rows vs the real holdout, scored the same way).

    .venv/bin/python bench/teacher_quality.py [--data breast-cancer-wisconsin,iris] [--preset default]
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console
from rich.table import Table

from fuseprune.data import load_table
from fuseprune.tabular import EvalConfig, TrainConfig, evaluate, split_of, train_on_table


def main() -> None:
    """Run the benchmark described at the top of this file and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="breast-cancer-wisconsin", help="comma-separated data set names")
    parser.add_argument("--preset", default="default")
    args = parser.parse_args()
    table = Table(title=f"teacher quality, preset {args.preset} (quality = mean of 3 sampling seeds)")
    for column in ("data", "train s", "epochs", "quality", "sd", "ceiling", "quality/ceiling", "holdout NLL", "rows/s"):
        table.add_column(column, justify="right")
    for name in args.data.split(","):
        data = load_table(name)
        start = time.perf_counter()
        bundle = train_on_table(data, TrainConfig(preset=args.preset))
        seconds = time.perf_counter() - start
        train, holdout = split_of(bundle, data)
        record = evaluate(bundle, train, holdout, EvalConfig(), data_name=name)
        table.add_row(
            name, f"{seconds:.1f}", str(len(bundle.info["history"]["val_loss"])), f"{record.quality:.4f}",
            f"{record.quality_std:.4f}", f"{record.ceiling:.4f}", f"{record.quality / record.ceiling:.3f}",
            f"{record.holdout_nll:.3f}", f"{record.rows_per_second:,.0f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
