"""Benchmark: healing a pruned teacher by plain fine-tuning vs distillation, at the same budget.

For each data set it loads (or trains) the cached `default` teacher (6 layers,
seed 0), ranks its layers with a signal computed on the TRAINING split only
(default: block_influence, one-shot), removes 4 of the 6 layers and evaluates
the student (a) as pruned, (b) after plain fine-tuning on the data and (c)
after distillation from the teacher. (b) and (c) run the same loop with the
same budget (``distill_tabular``: epochs, patience, learning rate, batch size,
validation split); fine-tuning is that loop with ``alpha=0`` and no hidden
alignment, i.e. the data cross-entropy alone. Every model is scored on the
holdout split: SDMetrics quality (mean ± sd of three sampling seeds), the
ratio student / teacher quality (the target for distillation is >= 0.99 on
every data set) and the holdout NLL per row. Results are also written as JSON.

    .venv/bin/python bench/distill.py [--data breast-cancer-wisconsin,health-insurance] [--strategy block_influence]
        [--remove 4] [--set alpha=0.9 --set hidden_weight=0.1] [--out bench/results/distill.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path
from typing import Any

# Before torch loads: idle OpenMP threads sleep instead of spinning. The thread count stays torch's default;
# on a shared, oversubscribed machine spinning made each step 10x slower (2-5 s instead of 0.3 s).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from common import quiet  # noqa: E402
from rich.console import Console
from rich.table import Table

from fuseprune.data import load_table
from fuseprune.distill import DistillConfig
from fuseprune.files import write_json_atomic
from fuseprune.tabular import (
    EvalConfig,
    EvaluationRecord,
    TrainConfig,
    distill_tabular,
    evaluate,
    make_tabular_plan,
    prune_tabular,
    split_of,
)
from fuseprune.tabular.cache import load_or_train, teacher_folder

DATA = "breast-cancer-wisconsin,health-insurance"
TARGET = 0.99
STATUS = Console(stderr=True, log_path=False)


def main() -> None:
    """Run the benchmark described at the top of this file and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DATA, help="comma-separated data set names")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--seed", type=int, default=0, help="teacher training seed")
    parser.add_argument("--teachers", default="runs/teachers", help="teacher cache: {data}-{preset}-seed{seed}")
    parser.add_argument("--strategy", default="block_influence", help="layer ranking, computed on the training split")
    parser.add_argument("--mode", default="one-shot", choices=("one-shot", "iterative"))
    parser.add_argument("--remove", default="4", help="layers to remove: a count or a percentage")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a DistillConfig field for BOTH healing runs (alpha/temperature/hidden_* "
                             "only affect distillation); repeatable")
    parser.add_argument("--skip", default="", help="comma-separated runs to skip: none, finetune, distill")
    parser.add_argument("--out", default="bench/results/distill.json")
    args = parser.parse_args()
    quiet()
    remove: int | str = int(args.remove) if args.remove.isdigit() else args.remove
    distill_config = DistillConfig.from_dict({**DistillConfig().to_dict(), **_overrides(args.set)})
    finetune_config = dataclasses.replace(distill_config, alpha=0.0, hidden_weight=0.0)
    skip = {s for s in args.skip.split(",") if s}
    results = []
    started = time.perf_counter()
    for name in args.data.split(","):
        results.append(_run(name, args, remove, distill_config, finetune_config, skip))
    seconds = time.perf_counter() - started
    _print(args, distill_config, results, seconds)
    if args.out:
        payload = {
            "preset": args.preset, "teacher_seed": args.seed, "strategy": args.strategy, "mode": args.mode,
            "remove": remove, "target_ratio": TARGET, "distill_config": distill_config.to_dict(),
            "finetune_config": finetune_config.to_dict(), "total_seconds": seconds, "data": results,
        }
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(args.out, payload)
        Console(width=140).print(f"written to {args.out}")


def _overrides(pairs: list[str]) -> dict[str, Any]:
    fields = {f.name: f for f in dataclasses.fields(DistillConfig)}
    values: dict[str, Any] = {}
    for pair in pairs:
        key, _, text = pair.partition("=")
        if key not in fields:
            raise SystemExit(f"--set: unknown DistillConfig field {key!r}; known: {', '.join(fields)}")
        kind = type(getattr(DistillConfig(), key))
        values[key] = kind(text) if kind is not bool else text.lower() in ("1", "true", "yes")
    return values


def _run(name: str, args, remove, distill_config: DistillConfig, finetune_config: DistillConfig,
         skip: set[str]) -> dict[str, Any]:
    table = load_table(name)
    folder = teacher_folder(args.teachers, name, args.preset, args.seed)
    teacher, reused = load_or_train(table, TrainConfig(preset=args.preset, seed=args.seed), folder)
    STATUS.log(f"{name}: teacher {'reused from' if reused else 'trained into'} {folder}")
    train, holdout = split_of(teacher, table)
    rows: dict[str, dict[str, Any]] = {"teacher": _row(evaluate(teacher, train, holdout, EvalConfig(), data_name=name))}
    start = time.perf_counter()
    plan = make_tabular_plan(teacher, train, args.strategy, remove=remove, mode=args.mode, seed=0)
    plan_seconds = time.perf_counter() - start
    student = prune_tabular(teacher, plan)
    layer_map = list(plan.kept_layers)
    if "none" not in skip:
        rows["pruned, no healing"] = _row(evaluate(student, train, holdout, EvalConfig(), data_name=name))
    runs = (("fine-tuned (alpha=0)", "finetune", finetune_config), ("distilled", "distill", distill_config))
    for label, key, config in runs:
        if key in skip:
            continue
        start = time.perf_counter()
        healed, history = distill_tabular(student, teacher, train, config, layer_map=layer_map)
        seconds = time.perf_counter() - start
        record = _row(evaluate(healed, train, holdout, EvalConfig(), data_name=name))
        record["heal"] = {"seconds": seconds, "epochs": len(history.val_loss), "best_epoch": history.best_epoch,
                          "stopped": history.stopped, "best_val_nll": min(history.val_loss),
                          "teacher_val_nll": history.teacher_val_loss, "history": history.to_dict()}
        rows[label] = record
        STATUS.log(f"{name}: {label} in {seconds:.0f}s, quality {record['quality']:.4f}")
    base = rows["teacher"]["quality"]
    for row in rows.values():
        row["ratio"] = row["quality"] / base
    return {"data": name, "teacher_folder": str(folder), "teacher_reused": reused, "train_rows": len(train),
            "holdout_rows": len(holdout), "removed": list(plan.remove), "kept_layers": layer_map,
            "signal_scores": {k: list(v) for k, v in plan.signal_scores.items()},
            "plan_seconds": plan_seconds, "models": rows}


def _row(record: EvaluationRecord) -> dict[str, Any]:
    return {"quality": record.quality, "quality_std": record.quality_std,
            "quality_per_seed": list(record.quality_per_seed), "ceiling": record.ceiling,
            "holdout_nll": record.holdout_nll, "parameters": record.parameters, "layers": record.layers,
            "rows_per_second": record.rows_per_second}


def _print(args, config: DistillConfig, results: list[dict[str, Any]], seconds: float) -> None:
    title = (f"healing a pruned {args.preset} teacher (seed {args.seed}): remove {args.remove} layers by "
             f"{args.strategy} ({args.mode}, on the training split); quality = mean ± sd of 3 sampling seeds")
    table = Table(title=title)
    for column in ("data", "model", "layers", "params", "heal s", "epochs", "quality", "sd", "q / teacher",
                   "holdout NLL"):
        table.add_column(column, justify="right")
    for result in results:
        for label, row in result["models"].items():
            heal = row.get("heal")
            table.add_row(
                result["data"],
                label,
                str(row["layers"]),
                f"{row['parameters']:,}",
                f"{heal['seconds']:.1f}" if heal else "",
                f"{heal['epochs']} ({heal['best_epoch'] + 1})" if heal else "",
                f"{row['quality']:.4f}",
                f"{row['quality_std']:.4f}",
                f"{row['ratio']:.3f}",
                f"{row['holdout_nll']:.3f}",
            )
        table.add_section()
    console = Console(width=max(Console().width, 140))
    console.print(table)
    fields = ("alpha", "temperature", "hidden_weight", "hidden_loss", "learning_rate", "max_epochs", "patience",
              "batch_size")
    console.print("distillation: " + ", ".join(f"{f}={getattr(config, f)}" for f in fields)
                  + "; fine-tuning: the same with alpha=0, hidden_weight=0")
    for result in results:
        distilled = result["models"].get("distilled")
        verdict = "" if distilled is None else (
            f"distilled / teacher = {distilled['ratio']:.3f} "
            f"({'meets' if distilled['ratio'] >= TARGET else 'MISSES'} the {TARGET} target)")
        console.print(f"{result['data']}: removed layers {result['removed']}, kept {result['kept_layers']} "
                      f"(plan {result['plan_seconds']:.1f}s); {verdict}")
    console.print(f"epochs column: run (best); total {seconds:.0f}s wall")


if __name__ == "__main__":
    main()
