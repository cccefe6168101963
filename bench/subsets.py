"""Benchmark: every subset of layers measured by prefix sharing vs one forward per subset (brute force).

On a teacher (default: the 12-layer deep teacher of breast-cancer-wisconsin) and
its whole holdout in one batch, it times ``subset_losses`` for every subset of
the given sizes (default: all sizes, 2^L subsets), once by prefix sharing and
once by brute force, checks that both agree within 1e-5, and prints the times.
One thread, as the study runs.

    .venv/bin/python bench/subsets.py [--model-dir DIR] [--sizes 0,1,...] [--rows N]
"""

from __future__ import annotations

import argparse
import time
from unittest import mock

import torch
from common import quiet, teacher

from fuseprune.data import load_table
from fuseprune.pruning.subsets import subset_losses, subsets_of
from fuseprune.tabular import calibration_batches, split_of, tabular_loss_fn


def main() -> None:
    """Run the benchmark described at the top of this file and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="breast-cancer-wisconsin")
    parser.add_argument("--preset", default="deep")
    parser.add_argument("--model-dir", default="runs/teachers/breast-cancer-wisconsin-deep-seed0",
                        help="teacher folder (trained there with --preset if absent)")
    parser.add_argument("--sizes", default="", help="comma-separated subset sizes (default: all)")
    parser.add_argument("--rows", type=int, default=0, help="holdout rows (default: all)")
    args = parser.parse_args()
    quiet()
    torch.set_num_threads(1)
    bundle = teacher(args.data, args.preset, args.model_dir)
    _, holdout = split_of(bundle, load_table(args.data))
    rows = args.rows or len(holdout)
    batches = calibration_batches(bundle.codec, holdout, rows, rows, seed=0)
    layers = bundle.model.config.n_layer
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else list(range(layers + 1))
    subsets = subsets_of(layers, sizes)

    def run() -> tuple[float, dict]:
        start = time.perf_counter()
        losses = subset_losses(bundle.model, batches, subsets, loss_fn=tabular_loss_fn(bundle.codec))
        return time.perf_counter() - start, losses

    fast_s, fast = run()
    with mock.patch("fuseprune.pruning.subsets.stack_head", return_value=None):
        brute_s, brute = run()
    worst = max(abs(fast[key] - brute[key]) for key in brute)
    print(f"{args.data} {args.preset}: {layers} layers, {len(subsets)} subsets, {rows} rows in one batch")
    print(f"brute force {brute_s:.2f} s, prefix sharing {fast_s:.2f} s, speed-up {brute_s / fast_s:.1f}x, "
          f"largest difference {worst:.2e} ({'ok' if worst <= 1e-5 else 'DISAGREE'})")


if __name__ == "__main__":
    main()
