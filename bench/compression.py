"""Benchmark: the sparsity sweep and the factorisation table of the compression study, on our teachers.

For each preset (``default`` and ``seed`` by default) on breast-cancer-wisconsin:

  sparsity sweep   magnitude sparsity 0 (the teacher), 0.1 .. 0.9 of the projection weights:
                   SDMetrics quality, diagnostic and non-zero parameters (the shape of the
                   REaLTabFormer compression study's table)
  factorisation    depth (tail) at each fraction of the layers removed, sparsity at each timed level, svd at
                   each fraction of the feed-forward parameters kept, tucker and tt at each rank cap, and
                   int8: quality, compression ratio (teacher bytes on disk / the model's) and rows/s,
                   every model timed side by side with the teacher in ONE run (alternating rounds,
                   same batch), with each model's rows/s relative to the teacher's

Models are built exactly as `fuseprune compress` builds its candidates
(:func:`fuseprune.explore.candidate.build`), healed by ``--heal-epochs`` of
distillation (0 = none, the study's setting). Methods not registered in this
fuseprune are listed as skipped. A method that saves parameters but no time
(unstructured sparsity, perhaps tt) shows it in the speed ratio.

It refuses to run on a busy machine (load average, or other processes using
CPU) unless ``--force``, which marks the figures as taken on a busy machine.

    .venv/bin/python bench/compression.py                  # the figures for BENCHMARKS.md (idle machine)
    .venv/bin/python bench/compression.py --quick --force  # smoke check with small settings (figures meaningless)
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
from pathlib import Path
from typing import Any

import torch
from common import quiet
from machine import announce_load, describe
from rich.console import Console
from rich.table import Table

from fuseprune.compress import COMPRESSIONS
from fuseprune.compress.base import nonzero_parameters
from fuseprune.data import load_table
from fuseprune.explore.candidate import build, quality_of, saved_bytes, speed_batch, timed_runs
from fuseprune.explore.config import ExploreConfig
from fuseprune.explore.grid import Candidate, removed_layers
from fuseprune.files import write_json_atomic
from fuseprune.tabular import TabularGPT, TrainConfig, split_of
from fuseprune.tabular.cache import load_or_train, teacher_folder

REPO = Path(__file__).resolve().parent.parent
STATUS = Console(stderr=True, log_path=False)


def teacher_of(preset: str, args: argparse.Namespace) -> tuple[TabularGPT, Path]:
    """The preset's teacher: the folder given with --teacher, else the cache's (trained if absent)."""
    if preset in args.teacher:
        return TabularGPT.load(args.teacher[preset]), Path(args.teacher[preset])
    minutes = args.seed_minutes if preset == "seed" else None
    folder = teacher_folder(args.teachers, args.data, preset, 0)
    STATUS.log(f"teacher {preset}: {folder} (trained if absent or trained otherwise)")
    bundle, _ = load_or_train(load_table(args.data), TrainConfig(preset=preset, max_epochs=args.train_epochs,
                                                                max_minutes=minutes), folder)
    return bundle, folder


def search_config(folder: Path, args: argparse.Namespace) -> ExploreConfig:
    """The settings :func:`build` and the measurements read (healing, seeds, speed rows and rounds)."""
    return ExploreConfig(model=str(folder), data=args.data, heal_epochs=args.heal_epochs,
                         heal_minutes=args.heal_minutes, quality_seeds=tuple(args.quality_seeds),
                         speed_rows=args.speed_rows, speed_repeats=args.rounds, batch_size=args.batch_size)


def one(method: str, **options: Any) -> Candidate:
    """The candidate of one method with these options."""
    return Candidate(((method, tuple(sorted(options.items()))),))


def sweep(config: ExploreConfig, teacher: TabularGPT, train: Any, holdout: Any, args: argparse.Namespace) -> list:
    """Sparsity 0 (the teacher) and each level: quality, diagnostic, non-zero parameters."""
    rows = []
    for level in [0.0, *args.sparsity]:
        STATUS.log(f"sparsity {level:g}")
        bundle = teacher if level == 0 else build(config, one("sparsity", sparsity=level), teacher, train)[0]
        quality = quality_of(config, bundle, train, holdout, ceiling=False)
        rows.append({"sparsity": level, "quality": quality["quality"], "quality_std": quality["quality_std"],
                     "diagnostic": quality["diagnostic"], "nonzero_parameters": nonzero_parameters(bundle.model),
                     "parameters": quality["parameters"]})
    return rows


def label_of(method: str, options: dict[str, Any]) -> str:
    """``depth remove 3 (tail)``, ``sparsity 0.5``, ``svd fraction 0.25``, ``tt rank 8``, ``int8``."""
    if method == "depth":
        return f"depth remove {options['remove']} ({options['strategy']})"
    if method == "sparsity":
        return f"sparsity {options['sparsity']:g}"
    return " ".join([method, *(f"{k} {v:g}" for k, v in options.items())])


def factorisations(config: ExploreConfig, teacher: TabularGPT, train: Any, holdout: Any,
                   args: argparse.Namespace) -> tuple[list, list[str]]:
    """Every factorisation (and int8): quality, compression ratio and rows/s beside the teacher's in one run."""
    layers = teacher.model.config.n_layer
    wanted: list[tuple[str, dict[str, Any]]] = [("depth", {"remove": removed_layers(f, layers), "strategy": "tail"})
                                                for f in args.depth]
    wanted += [("sparsity", {"sparsity": s}) for s in args.timed_sparsity]
    wanted += [("svd", {"fraction": f}) for f in args.fractions]
    wanted += [(m, {"rank": r}) for m in ("tucker", "tt") for r in args.ranks]
    wanted = [(m, o) for m, o in wanted if m in args.methods] + ([("int8", {})] if "int8" in args.methods else [])
    skipped = sorted({m for m, _ in wanted if m not in COMPRESSIONS})
    models = []
    for method, options in [(m, o) for m, o in wanted if m in COMPRESSIONS]:
        label = label_of(method, options)
        STATUS.log(f"building {label}")
        bundle, plan, _ = build(config, one(method, **options), teacher, train)
        quality = quality_of(config, bundle, train, holdout, ceiling=False)
        models.append((label, bundle, plan, quality))
    teacher_bytes = saved_bytes(teacher, None)
    batch = speed_batch(config, teacher)
    STATUS.log(f"timing the teacher and {len(models)} models side by side, {args.rounds} rounds")
    runs = timed_runs(config, [teacher, *[m[1] for m in models]], batch)
    rows = [{"method": "teacher", "quality": quality_of(config, teacher, train, holdout, ceiling=False)["quality"],
             "compression_ratio": 1.0, "parameters": teacher.num_parameters, "bytes_on_disk": teacher_bytes,
             "rows_per_second": statistics.median(runs[0]), "speed_ratio": 1.0, "runs": runs[0], "batch_size": batch}]
    for (label, bundle, plan, quality), model_runs in zip(models, runs[1:], strict=True):
        size = saved_bytes(bundle, plan)
        rate = statistics.median(model_runs)
        rows.append({"method": label, "quality": quality["quality"], "compression_ratio": teacher_bytes / size,
                     "parameters": quality["parameters"], "bytes_on_disk": size, "rows_per_second": rate,
                     "speed_ratio": rate / rows[0]["rows_per_second"], "runs": model_runs, "batch_size": batch})
    return rows, skipped


def show(preset: str, sweep_rows: list, factor_rows: list, skipped: list[str]) -> None:
    """Print both tables of one preset."""
    console = Console(width=max(Console().width, 120))
    table = Table(title=f"{preset}: magnitude sparsity sweep")
    for column in ("sparsity", "quality", "diagnostic", "non-zero parameters"):
        table.add_column(column, justify="right")
    for row in sweep_rows:
        table.add_row(f"{row['sparsity']:g}", f"{row['quality']:.4f}", f"{row['diagnostic']:.4f}",
                      f"{row['nonzero_parameters']:,}")
    console.print(table)
    table = Table(title=f"{preset}: factorisation (rows/s side by side with the teacher in one run)",
                  caption=f"not in this fuseprune: {', '.join(skipped)}" if skipped else None)
    for column in ("method", "quality", "compression ratio", "rows/s", "vs teacher"):
        table.add_column(column, justify="right")
    for row in factor_rows:
        note = "" if row["speed_ratio"] >= 1.05 or row["method"] == "teacher" else " (no faster)"
        table.add_row(row["method"], f"{row['quality']:.4f}", f"{row['compression_ratio']:.2f}x",
                      f"{row['rows_per_second']:,.0f}", f"{row['speed_ratio']:.2f}x{note}")
    console.print(table)


def arguments() -> argparse.Namespace:
    """The command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="breast-cancer-wisconsin")
    parser.add_argument("--presets", default="default,seed", help="comma-separated presets")
    parser.add_argument("--teachers", default="runs/teachers", help="teacher cache: {data}-{preset}-seed0")
    parser.add_argument("--teacher", action="append", default=[], metavar="PRESET=DIR",
                        help="use this model folder as the preset's teacher (e.g. seed=runs/seed/teacher); repeatable")
    parser.add_argument("--train-epochs", type=int, help="teacher training epochs (default: the preset's recipe)")
    parser.add_argument("--seed-minutes", type=float, default=20.0, help="training budget of the seed teacher")
    parser.add_argument("--sparsity", default="0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9", help="sparsity levels")
    parser.add_argument("--methods", default="depth,sparsity,svd,tucker,tt,int8",
                        help="methods timed beside the teacher (the sparsity sweep always runs)")
    parser.add_argument("--depth", default="0.5", help="fractions of the layers depth removes (tail strategy)")
    parser.add_argument("--timed-sparsity", default="0.5", help="sparsity levels timed beside the teacher")
    parser.add_argument("--fractions", default="0.5,0.25,0.1", help="fractions of the parameters svd keeps")
    parser.add_argument("--ranks", default="32,16,8", help="rank caps of tucker and tt")
    parser.add_argument("--heal-epochs", type=int, default=0, help="distillation epochs healing each model (0 = none)")
    parser.add_argument("--heal-minutes", type=float, default=5.0, help="budget of each healing in minutes")
    parser.add_argument("--quality-seeds", default="0,1,2", help="sampling seeds per quality figure")
    parser.add_argument("--speed-rows", type=int, default=1024, help="rows per timed sampling run")
    parser.add_argument("--batch-size", type=int, default=0, help="0 = the sampler's default for the teacher")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (every model once per round)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-load", type=float, default=0.5, help="highest 1-minute load average accepted")
    parser.add_argument("--force", action="store_true", help="run on a busy machine; figures are marked busy")
    parser.add_argument("--quick", action="store_true", help="smoke check: tiny budgets, few rows, 2 rounds")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/compression.json")
    args = parser.parse_args()
    if args.quick:
        args.train_epochs, args.seed_minutes, args.heal_minutes = 1, 0.5, 0.2
        args.sparsity, args.fractions, args.ranks, args.quality_seeds = "0.5,0.9", "0.5", "8", "0"
        args.speed_rows, args.rounds = 64, 2
        args.teachers = str(Path(args.teachers).with_name(Path(args.teachers).name + "-quick"))
    args.presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    args.sparsity = [float(s) for s in args.sparsity.split(",") if s.strip()]
    args.fractions = [float(s) for s in args.fractions.split(",") if s.strip()]
    args.depth = [float(s) for s in args.depth.split(",") if s.strip()]
    args.timed_sparsity = [float(s) for s in args.timed_sparsity.split(",") if s.strip()]
    args.ranks = [int(s) for s in args.ranks.split(",") if s.strip()]
    args.quality_seeds = [int(s) for s in args.quality_seeds.split(",") if s.strip()]
    args.teacher = dict(item.split("=", 1) for item in args.teacher)
    return args


def main() -> int:
    """Run the benchmark; return the exit code (announce_load exits with 3 on a busy machine unless forced)."""
    args = arguments()
    quiet()
    reasons = announce_load(args.max_load, args.force, STATUS)
    torch.set_num_threads(args.threads)
    results = []
    for preset in args.presets:
        teacher, folder = teacher_of(preset, args)
        config = search_config(folder, args)
        train, holdout = split_of(teacher, load_table(args.data))
        sweep_rows = sweep(config, teacher, train, holdout, args)
        factor_rows, skipped = factorisations(config, teacher, train, holdout, args)
        show(preset, sweep_rows, factor_rows, skipped)
        results.append({"preset": preset, "teacher": str(folder), "sparsity_sweep": sweep_rows,
                        "factorisation": factor_rows, "skipped_methods": skipped})
    meta = {"command": " ".join(sys.argv), "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "busy": bool(reasons), "busy_reasons": reasons, "threads": args.threads, "rounds": args.rounds,
            "quick": args.quick, "data": args.data, "heal_epochs": args.heal_epochs, **describe()}
    write_json_atomic(args.out, {"meta": meta, "results": results})
    STATUS.print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
