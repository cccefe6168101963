"""Benchmark: what the evaluation metrics cost, and every metric for a teacher and its half-depth student.

(a) Cost. On the `default` teacher of breast-cancer-wisconsin (the data `make run`
    uses): seconds per metric of the default set for 1,000 sampled rows (one
    seed: scoring the rows, then the reference), and the scoring `make run`
    does (teacher, then student; three seeds of as many rows as the training
    split; references once) with SDMetrics quality alone (the evaluation
    before issue 14) and with the default set. Nothing else in `make run`
    depends on the metric set, so the difference is what the default set adds;
    compare it with `time make run` (BENCHMARKS.md; target: at most 1.5x).
(b) Figures. For every bundled data set: the cached `default` teacher (seed 0,
    `runs/teachers`), its student with half the layers removed (forest fusion
    fitted without that data set, else block_influence, as `make run` plans)
    and distilled, and every registered metric (`all`) for both, each with its
    spread over three sampling seeds and its real-data reference.

Writes bench/results/evaluation.json and prints the tables.

    .venv/bin/python bench/evaluation.py [--data a,b] [--skip-cost] [--skip-figures] [--quick]

`--quick` checks the script on one small data set with the `tiny` preset, one
seed and 200 rows; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads; see bench/distill.py

from common import quiet  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from fuseprune.data import DATASETS, load_table  # noqa: E402
from fuseprune.distill import DistillConfig  # noqa: E402
from fuseprune.evaluation import (  # noqa: E402
    METRICS,
    RealRows,
    default_metrics,
    score_samples,
    select_metrics,
    suite,
    utility,
)
from fuseprune.evaluation.display import figure_label, spread  # noqa: E402
from fuseprune.files import write_json_atomic  # noqa: E402
from fuseprune.pipeline import run_strategy  # noqa: E402
from fuseprune.tabular import (  # noqa: E402
    EvalConfig,
    TabularGPT,
    TrainConfig,
    distill_tabular,
    evaluate,
    make_tabular_plan,
    prune_tabular,
    sample_rows,
    split_of,
)
from fuseprune.tabular.cache import load_or_train, teacher_folder  # noqa: E402

COST_DATA = "breast-cancer-wisconsin"
STATUS = Console(stderr=True, log_path=False)


def main() -> None:
    """Run the benchmark described at the top of this file and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=",".join(DATASETS.names()), help="comma-separated data sets for (b)")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--teachers", default="runs/teachers", help="teacher cache: {data}-{preset}-seed0")
    parser.add_argument("--students", default="", help="folder to keep distilled students in and reuse them from "
                        "(default: make them anew)")
    parser.add_argument("--rows", type=int, default=1000, help="sampled rows for the cost part (a)")
    parser.add_argument("--seeds", default="0,1,2", help="sampling seeds for (b)")
    parser.add_argument("--skip-cost", action="store_true")
    parser.add_argument("--skip-figures", action="store_true")
    parser.add_argument("--quick", action="store_true", help="iris, tiny preset, one seed, 200 rows")
    parser.add_argument("--out", default="bench/results/evaluation.json")
    args = parser.parse_args()
    if args.quick:  # its own caches: a quick teacher trains for 3 epochs only
        args.data, args.preset, args.seeds, args.rows = "iris", "tiny", "0", 200
        args.teachers, args.students = "runs/bench-quick/teachers", "runs/bench-quick/students"
        args.out = "runs/bench-quick/evaluation.json"  # not a result worth keeping
    quiet()
    seeds = tuple(int(s) for s in args.seeds.split(","))
    payload: dict[str, Any] = {"preset": args.preset, "seeds": list(seeds)}
    if not args.skip_cost:
        payload["cost"] = cost(args.data.split(",")[0] if args.quick else COST_DATA, args.preset, args.rows, args)
    if not args.skip_figures:
        payload["data"] = [figures(name, args, seeds) for name in args.data.split(",")]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(args.out, payload)
    Console().print(f"written to {args.out}")


def models(name: str, args: argparse.Namespace) -> tuple[Any, TabularGPT, TabularGPT, dict[str, Any]]:
    """The table, the cached teacher and its half-depth distilled student."""
    table = load_table(name)
    config = TrainConfig(preset=args.preset, seed=0, **({"max_epochs": 3} if args.quick else {}))
    teacher, reused = load_or_train(table, config, teacher_folder(args.teachers, name, args.preset, 0))
    folder = Path(args.students) / f"{Path(name).stem}-{args.preset}-seed0-half" if args.students else None
    info: dict[str, Any] = {"teacher_reused": reused, "student_folder": str(folder) if folder else None}
    if folder is not None and (folder / "config.json").is_file():
        return table, teacher, TabularGPT.load(folder), {**info, "student_reused": True}
    train, _ = split_of(teacher, table)
    plan = make_tabular_plan(teacher, train, run_strategy(table.name), remove="50%", seed=0)
    distill = DistillConfig(seed=0, **({"max_epochs": 1} if args.quick else {}))
    student, _ = distill_tabular(prune_tabular(teacher, plan), teacher, train, distill, layer_map=plan.kept_layers)
    if folder is not None:
        student.save(folder)
    return table, teacher, student, {**info, "student_reused": False, "strategy": plan.strategy,
                                     "removed": list(plan.remove)}


def cost(name: str, preset: str, rows: int, args: argparse.Namespace) -> dict[str, Any]:
    """(a): seconds per default metric on ``rows`` sampled rows, and the scoring `make run` does with each set."""
    table, teacher, student, _ = models(name, args)
    train, holdout = split_of(teacher, table)
    kinds = {name: spec["sdtype"] for name, spec in teacher.codec.metadata()["columns"].items()}
    real = RealRows(train, holdout, kinds, DATASETS.get(name).target)
    synthetic = sample_rows(teacher, rows, seed=0)
    per_metric = {}
    for metric_name in default_metrics():
        _forget()
        metric = METRICS.get(metric_name)()
        with threadpool_limits(limits=1, user_api="blas"):  # as evaluate() runs them
            start = time.perf_counter()
            metric.compute(real, synthetic, 0)
            middle = time.perf_counter()
            metric.reference(real, rows, 0)
        per_metric[metric_name] = {"compute_s": middle - start, "reference_s": time.perf_counter() - middle}
    # make run evaluates the teacher, then the student, on 3 seeds of as many rows as the training split;
    # the metric set changes only the scoring (sampling, NLL and the speed runs are the same), so time that
    samples = [{seed: sample_rows(model, len(train), seed=seed) for seed in (0, 1, 2)} for model in (teacher, student)]
    runs = {}
    for label, names in (("quality only", ["quality"]), ("default set", ["default"])):
        _forget()
        start = time.perf_counter()
        for rows_of_model in samples:
            score_samples(real, rows_of_model, select_metrics(names, real))
        runs[label] = time.perf_counter() - start
    result = {"data": name, "rows": rows, "per_metric": per_metric, "scoring_teacher_and_student_s": runs,
              "added_s": runs["default set"] - runs["quality only"]}
    _print_cost(result)
    return result


def _forget() -> None:
    """Drop cached references so every timing pays for its own."""
    suite._REFERENCES.clear()
    utility._REAL.clear()


def figures(name: str, args: argparse.Namespace, seeds: tuple[int, ...]) -> dict[str, Any]:
    """(b): every metric for the teacher and its student on one data set."""
    table, teacher, student, info = models(name, args)
    train, holdout = split_of(teacher, table)
    config = EvalConfig(seeds=seeds, metrics=("all",))
    records, seconds = {}, {}
    for label, model in (("teacher", teacher), ("student", student)):
        start = time.perf_counter()
        records[label] = evaluate(model, train, holdout, config, data_name=name)
        seconds[label] = time.perf_counter() - start
        STATUS.log(f"{name}: {label} evaluated in {seconds[label]:.0f}s")
    _print_figures(name, records)
    return {"data": name, **info, "train_rows": len(train), "holdout_rows": len(holdout), "seconds": seconds,
            **{label: record.to_dict() for label, record in records.items()}}


def _print_cost(result: dict[str, Any]) -> None:
    table = Table(title=f"cost of the default metric set on {result['rows']} sampled rows of {result['data']} "
                        "(one seed)")
    for column in ("metric", "score the rows (s)", "reference (s)"):
        table.add_column(column, justify="right")
    for name, row in result["per_metric"].items():
        table.add_row(name, f"{row['compute_s']:.2f}", f"{row['reference_s']:.2f}")
    console = Console(width=120)
    console.print(table)
    runs = result["scoring_teacher_and_student_s"]
    console.print(f"scoring teacher + student as make run does (3 seeds each, references once): SDMetrics quality "
                  f"only {runs['quality only']:.1f}s, the default set {runs['default set']:.1f}s; the default set "
                  f"adds {result['added_s']:.1f}s to make run")


def _print_figures(name: str, records: dict[str, Any]) -> None:
    teacher, student = records["teacher"], records["student"]
    table = Table(title=f"{name}: teacher ({teacher.layers} layers) vs half-depth distilled student "
                        f"({student.layers}); mean ± sd over {len(teacher.seeds)} seeds of {teacher.n_rows} rows")
    for column in ("figure", "teacher", "student", "reference"):
        table.add_column(column, justify="right")
    for figure, a in teacher.metrics.items():
        b = student.metrics[figure]
        table.add_row(figure_label(figure), spread(a.mean, a.std), spread(b.mean, b.std),
                      spread(a.reference, a.reference_std))
    table.add_row("holdout NLL per row", f"{teacher.holdout_nll:.3f}", f"{student.holdout_nll:.3f}", "")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
