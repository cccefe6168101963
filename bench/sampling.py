"""Benchmark: rows per second of fuseprune's sampler beside transformers' generate and REaLTabFormer's sample().

For the `default` (6 x 128) and `seed` (6 x 768, 43M) presets on
breast-cancer-wisconsin and their half-depth students, four ways to sample the
same model on the same CPU threads, timed in alternating rounds (A B C D, A B C
D, ...; the median of the rounds is reported):

  ours       fuseprune's sampler (``sample_ids``: lean decoder, constraint tables)
  row        ``model.generate`` one row at a time, masked by a LogitsProcessor (the naive baseline)
  batched    ``model.generate`` on a batch (the same batch size as ours) with the same LogitsProcessor
  peer       REaLTabFormer 0.2.4's own ``sample()`` on the model exported by ``fuseprune export-rtf``,
             run in the side environment (``FUSEPRUNE_PEER_PYTHON`` or ``.venv-peer/bin/python``,
             made by ``bench/peer/setup.sh``) through ``bench/peer/peer_sample.py``

Every method draws from the same masked distribution. It also measures the
machine's fp32 matmul rate (``torch.mm`` on the shapes of one GPT-2 block at
our batch size, and a 2048 x 2048 square, best of N, on the same threads) and
each model's FLOPs per sampled row (see ``machine.gpt2_flops_per_row``), and
prints the fraction of that compute limit our sampler reaches: its rows/s
against the rows/s the limit allows at the dense FLOPs per row (every row at
every step, as ``generate`` computes), and the efficiency of the FLOPs it
executes (it computes a step once per distinct prefix of a batch).

Teachers come from the teacher cache (``runs/teachers/``), trained when absent;
the `seed` teacher's training is bounded by ``--seed-minutes`` (speed does not
depend on the weights, but REaLTabFormer's sampler rejects invalid rows, so
the peer needs a trained model), or ``--teacher seed=runs/seed/teacher`` names
a folder to use (e.g. the teacher of ``fuseprune run --preset seed``). Students are planned (block_influence), pruned
and distilled for ``--distill-minutes`` with the preset's distillation recipe, and kept under ``--work``, unless
``--student seed=runs/seed/student`` names one (the student whose quality ``fuseprune run`` measured).

It refuses to run on a busy machine (load average, or other processes using
CPU) unless ``--force``, which marks the figures as taken on a busy machine.

    .venv/bin/python bench/sampling.py                  # the figures for BENCHMARKS.md (idle machine)
    .venv/bin/python bench/sampling.py --quick --force  # smoke check with small settings (figures meaningless)
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from common import quiet
from machine import announce_load, describe, gpt2_flops_per_row, gpt2_layer_shapes, matmul_rate
from peer_runner import Peer
from rich.console import Console
from sampling_report import METHODS, report, targets
from transformers import LogitsProcessor, LogitsProcessorList

from fuseprune.data import load_table
from fuseprune.files import write_json_atomic
from fuseprune.presets import distill_config
from fuseprune.tabular import (
    TabularGPT,
    TrainConfig,
    distill_tabular,
    make_tabular_plan,
    prune_tabular,
    sampler,
    split_of,
)
from fuseprune.tabular.cache import load_or_train, teacher_folder
from fuseprune.tabular.codec import BOS_ID
from fuseprune.tabular.interface import Codec
from fuseprune.tabular.sampler import default_batch_size, sample_ids

REPO = Path(__file__).resolve().parent.parent
STATUS = Console(stderr=True, log_path=False)


@dataclass
class Model:
    """One model under test."""

    name: str
    bundle: TabularGPT
    folder: Path


class CodecMask(LogitsProcessor):
    """The codec's constraints as a transformers LogitsProcessor: what a careful user would write."""

    def __init__(self, codec: Codec) -> None:
        self.codec, self.static = codec, codec.allowed_mask()

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        """Set the scores of the tokens the codec forbids after ``input_ids`` to -inf."""
        return scores.masked_fill(~self.codec.allowed_next(input_ids, self.static), float("-inf"))


def generate(bundle: TabularGPT, rows: int, batch: int) -> None:
    """Sample ``rows`` rows with ``model.generate``, ``batch`` rows per call."""
    options = dict(do_sample=True, top_k=0, top_p=1.0, temperature=1.0, pad_token_id=0,
                   max_new_tokens=bundle.codec.sequence_length - 1,
                   logits_processor=LogitsProcessorList([CodecMask(bundle.codec)]))
    for start in range(0, rows, batch):
        size = min(batch, rows - start)
        bundle.model.generate(torch.full((size, 1), BOS_ID), **options)


def timed(func: Any, rows: int) -> float:
    """Rows per second of one call of ``func``, which makes ``rows`` rows."""
    start = time.perf_counter()
    func()
    return rows / (time.perf_counter() - start)


def measure(model: Model, args: argparse.Namespace, peer: Peer) -> dict[str, Any]:
    """Rows/s of every method on one model, alternating the methods over rounds."""
    bundle = model.bundle
    batch = args.batch_size or default_batch_size(bundle.model, bundle.codec.sequence_length)
    rows = {"ours": args.rows, "row": args.row_rows, "batched": args.rows, "peer": args.rows}
    runs: dict[str, list[float]] = {m: [] for m in METHODS}
    rtf_dir, skipped = peer.export(model.folder, args.work / f"{model.name}-rtf")
    calls = {
        "ours": lambda r: timed(lambda: sample_ids(bundle.model, bundle.codec, rows["ours"], seed=r, batch_size=batch),
                                rows["ours"]),
        "row": lambda r: timed(lambda: generate(bundle, rows["row"], 1), rows["row"]),
        "batched": lambda r: timed(lambda: generate(bundle, rows["batched"], batch), rows["batched"]),
        "peer": lambda r: peer.rate(rtf_dir, rows["peer"], args.peer_batch or None, r, args.threads),
    }
    active = [m for m in METHODS if not (m == "peer" and skipped)]
    STATUS.log(f"{model.name}: warm-up")
    sample_ids(bundle.model, bundle.codec, min(batch, 64), batch_size=batch)
    generate(bundle, 2, 2)
    for round_index in range(args.rounds):
        for method in list(active):
            try:
                runs[method].append(calls[method](round_index))
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:  # the peer's side environment
                if method != "peer":
                    raise
                skipped, runs["peer"] = f"failed: {exc}", []
                active.remove("peer")
        STATUS.log(f"{model.name}: round {round_index + 1}/{args.rounds}: "
                   + "  ".join(f"{m} {runs[m][-1]:,.1f}" for m in active))
    medians = {m: statistics.median(runs[m]) for m in active}
    return {"model": model.name, "layers": bundle.model.config.n_layer, "parameters": bundle.num_parameters,
            "batch_size": batch, "rows_per_run": rows, "runs": runs, "rows_per_second": medians,
            "peer_skipped": skipped, **compute(bundle, batch, medians["ours"], args)}


def compute(bundle: TabularGPT, batch: int, ours: float, args: argparse.Namespace) -> dict[str, Any]:
    """FLOPs per row (dense, and as our sampler executes them), the matmul rates and the fractions reached.

    ``fraction_of_limit`` is our rows/s against the rows/s the matmul limit
    allows a sampler that computes every row at every step (dense FLOPs);
    ``executed_efficiency`` is the FLOP/s our sampler executes against the limit.
    """
    tables = bundle.codec.constraint_tables()
    tokens = [high - low for low, high in zip(tables.low, tables.high, strict=True)]
    shares = computed_shares(bundle, batch, args.rows)
    dense, executed = (gpt2_flops_per_row(bundle.model.config, tokens, s) for s in (None, shares))
    shaped = matmul_rate(gpt2_layer_shapes(bundle.model.config, batch), args.threads, args.mm_repeats)
    limit = max(shaped, args.square_rate)
    return {"dense_flops_per_row": dense, "executed_flops_per_row": executed, "computed_share_per_position": shares,
            "matmul_model_shapes": shaped, "matmul_square": args.square_rate, "compute_limit": limit,
            "rows_per_second_at_limit": limit / dense, "fraction_of_limit": ours * dense / limit,
            "executed_efficiency": ours * executed / limit}


def computed_shares(bundle: TabularGPT, batch: int, rows: int) -> list[float]:
    """Share of rows whose step t our sampler computes (steps of rows with a shared prefix are computed once)."""
    made = []
    original = sampler.make_stepper
    sampler.make_stepper = lambda model: made.append(original(model)) or made[-1]
    try:
        sample_ids(bundle.model, bundle.codec, rows, seed=0, batch_size=batch)
    finally:
        sampler.make_stepper = original
    counts = getattr(made[0], "rows_computed", None)
    steps = bundle.codec.sequence_length - 1
    return [1.0] * steps if counts is None else [c / rows for c in counts[:steps]]


def models(args: argparse.Namespace) -> list[Model]:
    """The teachers (from the cache) and their half-depth students."""
    table, found = load_table(args.data), []
    for preset in args.presets:
        if preset in args.teacher:  # a model folder given on the command line, e.g. runs/seed/teacher
            folder = Path(args.teacher[preset])
            teacher = TabularGPT.load(folder)
        else:
            minutes = args.seed_minutes if preset == "seed" else None  # None: the preset's recipe
            config = TrainConfig(preset=preset, max_epochs=args.train_epochs, max_minutes=minutes)
            folder = teacher_folder(args.teachers, args.data, preset, 0)
            STATUS.log(f"teacher {preset}: {folder} (trained if absent or trained otherwise)")
            teacher, _ = load_or_train(table, config, folder)
        found.append(Model(f"{preset}", teacher, folder))
        if preset in args.student:  # e.g. runs/seed/student, whose quality `fuseprune run` measured
            found.append(Model(f"{preset} half", TabularGPT.load(args.student[preset]), Path(args.student[preset])))
        else:
            found.append(student(teacher, folder, table, preset, args))
    return found


def student(teacher: TabularGPT, teacher_dir: Path, table: Any, preset: str, args: argparse.Namespace) -> Model:
    """The half-depth student: planned with block_influence, pruned, distilled; reused when made the same way."""
    folder = args.work / f"{preset}-half"
    recipe = {"teacher": str(teacher_dir), "teacher_history": teacher.info.get("history"),
              "distill_minutes": args.distill_minutes}
    if (folder / "config.json").is_file():
        saved = TabularGPT.load(folder)
        if saved.info.get("bench_recipe") == json.loads(json.dumps(recipe)):
            return Model(f"{preset} half", saved, folder)
    STATUS.log(f"student {preset}: planning, pruning and distilling for {args.distill_minutes} min")
    train, _ = split_of(teacher, table)
    plan = make_tabular_plan(teacher, train, "block_influence", remove="50%")
    pruned = prune_tabular(teacher, plan)
    if args.distill_minutes > 0:
        config = distill_config(preset, max_minutes=args.distill_minutes)
        pruned, _ = distill_tabular(pruned, teacher, train, config, layer_map=plan.kept_layers)
    pruned.info["bench_recipe"] = recipe
    pruned.save(folder)
    return Model(f"{preset} half", pruned, folder)


def arguments() -> argparse.Namespace:
    """The command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="breast-cancer-wisconsin")
    parser.add_argument("--presets", default="default,seed", help="comma-separated presets")
    parser.add_argument("--teachers", default="runs/teachers", help="teacher cache: {data}-{preset}-seed0")
    parser.add_argument("--teacher", action="append", default=[], metavar="PRESET=DIR",
                        help="use this model folder as the preset's teacher (e.g. seed=runs/seed/teacher); repeatable")
    parser.add_argument("--student", action="append", default=[], metavar="PRESET=DIR",
                        help="use this model folder as the preset's half-depth student (e.g. seed=runs/seed/student)")
    parser.add_argument("--work", type=Path, default=Path("runs/bench-sampling"), help="students and exported models")
    parser.add_argument("--train-epochs", type=int, help="teacher training epochs (default: the preset's recipe)")
    parser.add_argument("--seed-minutes", type=float, default=20.0, help="training budget of the seed teacher")
    parser.add_argument("--distill-minutes", type=float, default=5.0, help="distillation budget of each student")
    parser.add_argument("--rows", type=int, default=2048, help="rows per timed run (ours, batched, peer)")
    parser.add_argument("--row-rows", type=int, default=64, help="rows per timed run of row-by-row generate")
    parser.add_argument("--batch-size", type=int, default=0, help="0 = the sampler's default for each model")
    parser.add_argument(
        "--peer-batch",
        type=int,
        default=0,
        help="REaLTabFormer's gen_batch (0 = peer_sample.py's 512; REaLTabFormer's own default is 128)",
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--mm-repeats", type=int, default=7, help="timed runs of each matmul rate (best is kept)")
    parser.add_argument("--max-load", type=float, default=0.5, help="highest 1-minute load average accepted")
    parser.add_argument("--force", action="store_true", help="run on a busy machine; figures are marked busy")
    parser.add_argument("--quick", action="store_true", help="smoke check: tiny budgets, few rows, 2 rounds")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/sampling.json")
    args = parser.parse_args()
    if args.quick:
        args.train_epochs, args.seed_minutes, args.distill_minutes = 1, 0.5, 0.0
        args.rows, args.row_rows, args.rounds, args.mm_repeats = 64, 4, 2, 2
        args.work = args.work.with_name(args.work.name + "-quick")
        args.teachers = str(Path(args.teachers).with_name(Path(args.teachers).name + "-quick"))
    args.presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    args.teacher = dict(item.split("=", 1) for item in args.teacher)
    args.student = dict(item.split("=", 1) for item in args.student)
    return args


def main() -> int:
    """Run the benchmark; return the exit code (announce_load exits with 3 on a busy machine unless forced)."""
    args = arguments()
    quiet()
    reasons = announce_load(args.max_load, args.force, STATUS)
    torch.set_num_threads(args.threads)
    peer = Peer.find(REPO)
    args.square_rate = matmul_rate([(2048, 2048, 2048)], args.threads, args.mm_repeats)
    results = [measure(model, args, peer) for model in models(args)]
    meta = {"command": " ".join(sys.argv), "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "busy": bool(reasons), "busy_reasons": reasons, "threads": args.threads, "rounds": args.rounds,
            "quick": args.quick, "data": args.data, **describe(), "peer": peer.describe()}
    report(results, meta)
    write_json_atomic(args.out, {"meta": meta, "results": results, "targets": targets(results)})
    Console(width=max(Console().width, 150)).print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
