"""Benchmark: sampling throughput of the `default` model with 0..L-1 layers really removed.

Every pruned copy is made by real surgery (``remove_layers``), so it is a
smaller model, not a model with skipped layers. The copies are timed in
interleaved rounds (round r samples with every copy in turn), and each copy's
rows/s is the median over rounds, so machine noise hits all copies alike. The
target: removing k of L layers, for every k <= L/2, gives at least
0.8 x L/(L-k) of the full model's throughput.

    .venv/bin/python bench/pruned_speed.py [--model-dir runs/default/teacher] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

from common import quiet, teacher
from rich.console import Console
from rich.table import Table

from fuseprune.pruning import remove_layers
from fuseprune.tabular import TabularGPT, sample_ids
from fuseprune.tabular.evaluation import saved_bytes


def main() -> None:
    """Run the benchmark described at the top of this file and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="breast-cancer-wisconsin")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--model-dir", default="runs/default/teacher", help="reuse (or create) this teacher")
    parser.add_argument("--rows", type=int, default=1024, help="rows sampled per timed run")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    quiet()
    full = teacher(args.data, args.preset, args.model_dir)
    layers = full.model.config.n_layer
    # remove the last k layers: which ones does not change the cost of a layer
    models = [full] + [
        TabularGPT(remove_layers(full.model, range(layers - k, layers)), full.codec) for k in range(1, layers)
    ]
    runs: list[list[float]] = [[] for _ in models]
    for model in models:  # warm-up
        sample_ids(model.model, model.codec, args.batch_size, batch_size=args.batch_size)
    for round_index in range(args.rounds):
        for index, model in enumerate(models):
            start = time.perf_counter()
            sample_ids(model.model, model.codec, args.rows, seed=round_index, batch_size=args.batch_size)
            runs[index].append(args.rows / (time.perf_counter() - start))
    _print(args, models, [statistics.median(r) for r in runs], layers)


def _print(args, models, speed: list[float], layers: int) -> None:
    title = (f"sampling throughput after removing k of {layers} layers ({args.rows} rows per run, batch "
             f"{args.batch_size}, median of {args.rounds} interleaved rounds)")
    table = Table(title=title)
    for column in (
        "k removed",
        "layers",
        "parameters",
        "bytes on disk",
        "rows/s",
        "speed-up",
        "target 0.8 L/(L-k)",
        "met",
    ):
        table.add_column(column, justify="right")
    verdicts = []
    for k, (model, rows_per_second) in enumerate(zip(models, speed, strict=True)):
        speedup = rows_per_second / speed[0]
        target = 0.8 * layers / (layers - k) if 0 < k <= layers / 2 else None
        met = "" if target is None else ("yes" if speedup >= target else "NO")
        verdicts.append(met)
        table.add_row(str(k), str(layers - k), f"{model.num_parameters:,}", f"{saved_bytes(model):,}",
                      f"{rows_per_second:,.0f}", f"{speedup:.2f}x", "" if target is None else f"{target:.2f}x", met)
    Console().print(table)
    Console().print("target met for every k <= L/2" if "NO" not in verdicts else "target MISSED for some k <= L/2")


if __name__ == "__main__":
    main()
