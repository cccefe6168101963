"""Commands about one model: datasets, train, sample, evaluate, score, run."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fuseprune.app_config import (
    DEFAULT_CALIBRATION_BATCH,
    DEFAULT_CALIBRATION_ROWS,
    EvalConfig,
    RunConfig,
    ScaleConfig,
    TrainConfig,
)
from fuseprune.cli.config_options import add_config_options, config_from_args
from fuseprune.cli.output import (
    LOOP_TYPES,
    MAX_CALIBRATION_ROWS,
    MAX_EVAL_ROWS,
    MAX_SAMPLE_ROWS,
    RichProgress,
    add_no_verify,
    add_overwrite,
    add_table_options,
    emit,
    integer,
    load_model,
    number,
    out,
    preset_help,
    read_options,
    recipe_default,
    seed,
    seeds,
    table,
    table_of,
)
from fuseprune.config import DEFAULT_DATASET, DEFAULT_HOLDOUT

#: TrainConfig fields the train command exposes; unset ones come from the preset's training recipe.
TRAIN_OPTIONS = (
    "max_epochs",
    "max_minutes",
    "batch_size",
    "learning_rate",
    "weight_decay",
    "warmup_fraction",
    "patience",
)
#: Config fields each command exposes as options (``--field-name``), in the order of its help.
TRAIN_FIELDS = ("preset", "seed", *TRAIN_OPTIONS)
SAMPLE_FIELDS = ("rows", "seed", "temperature", "jobs", "backend", "ray_address", "batch_size", "chunk_rows")
EVALUATE_FIELDS = ("seeds", "n_rows", "metrics", "target")
RUN_FIELDS = ("data", "preset", "seed", "out", "remove", "retrain", "metrics", "target")


def cmd_datasets(args: argparse.Namespace) -> None:
    """List the bundled data sets."""
    from fuseprune.data import DATASETS

    infos = [DATASETS.get(name) for name in DATASETS.names()]
    payload = [{"name": i.name, "source": i.source, "target": i.target, "description": i.description} for i in infos]
    rows = [(i.name, i.source, i.target, i.description) for i in infos]
    emit(args, payload, lambda: table("bundled data sets (all offline)", ["name", "source", "target", "description"],
                                      rows))


def cmd_metrics(args: argparse.Namespace) -> None:
    """List the evaluation metrics: name, whether in the default set, figures and what they measure."""
    from fuseprune.evaluation import METRICS, list_metrics
    from fuseprune.evaluation.display import goal_text

    payload: list[dict[str, Any]] = []
    for name in list_metrics():
        metric = METRICS.get(name)
        figures = [{"name": f.name, "goal": f.goal, "ideal": f.ideal,  # an unbounded end is null
                    "range": [None if math.isinf(v) else v for v in (f.low, f.high)]} for f in metric.figures]
        payload.append({"name": name, "default": metric.default, "description": metric.description,
                        "figures": figures})
    rows = [(m["name"], "yes" if m["default"] else "no", ", ".join(
        f"{f['name']} ({goal_text(f['goal'], f['ideal'])})" for f in m["figures"]), m["description"]) for m in payload]
    emit(args, payload, lambda: table("evaluation metrics (fuseprune evaluate --metrics a,b or default or all)",
                                      ["metric", "default", "figures (better)", "what it measures"], rows))


def cmd_train(args: argparse.Namespace) -> None:
    """Train a model on a table's training split and save it."""
    from fuseprune.data import load_table
    from fuseprune.outputs import MODEL, check_folder
    from fuseprune.tabular import train_on_table

    check_folder(args.out, MODEL, args.overwrite, option="--out")
    config = config_from_args(TrainConfig, args, TRAIN_FIELDS)
    read = read_options(args)
    data = load_table(args.data, read.column_types, delimiter=read.delimiter, drop_columns=read.drop_columns)
    bundle = train_on_table(data, config, holdout=args.holdout, split_seed=args.split_seed, progress=RichProgress())
    bundle.save(args.out, overwrite=args.overwrite)
    history = bundle.info["history"]
    payload = {"model_dir": args.out, "parameters": bundle.num_parameters, **history}
    rows = [("model folder", args.out), ("parameters", f"{bundle.num_parameters:,}"),
            ("epochs", len(history["val_loss"])), ("best epoch", history["best_epoch"] + 1),
            ("best validation NLL per row", f"{min(history['val_loss']):.4f}"),
            ("stopped by", history["stopped"]), ("seconds", f"{history['seconds']:.1f}")]
    emit(args, payload, lambda: table(f"trained {args.preset} on {args.data}", ["", ""], rows))


def cmd_sample(args: argparse.Namespace) -> None:
    """Sample rows from a saved model, streamed to a CSV or Parquet file in chunks."""
    from fuseprune.outputs import SAMPLES, check_file
    from fuseprune.tabular.runners import ModelSource
    from fuseprune.tabular.stream import sample_to_file
    from fuseprune.tabular.writers import file_format

    if args.out is not None:  # what is at the path first (a folder, a plan), then the extension
        check_file(args.out, SAMPLES, args.overwrite, option="--out")
        file_format(args.out)
    config = config_from_args(ScaleConfig, args, SAMPLE_FIELDS)
    source = ModelSource(bundle=load_model(args.model_dir, args), folder=Path(args.model_dir))
    result = sample_to_file(source, args.out, config, progress=RichProgress(), overwrite=args.overwrite)
    payload = {"rows": result.rows, "out": args.out, "seconds": result.seconds,
               "rows_per_second": result.rows_per_second, "head": json.loads(result.head.to_json(orient="records"))}
    preview = result.head.astype(str)
    title = (f"{result.rows} sampled rows" + (f" -> {args.out}" if args.out else "")
             + f" ({result.rows_per_second:,.0f} rows/s); first {len(preview)}")
    emit(args, payload, lambda: table(title, list(preview.columns), preview.values.tolist()))


def cmd_evaluate(args: argparse.Namespace) -> None:
    """Evaluate a saved model against the holdout split it never trained on."""
    from fuseprune.outputs import EVALUATION, check_file
    from fuseprune.tabular import split_of
    from fuseprune.tabular.evaluation import EvalConfig, evaluate

    if args.out is not None:
        check_file(args.out, EVALUATION, args.overwrite, option="--out")
    config = config_from_args(EvalConfig, args, EVALUATE_FIELDS)
    bundle = load_model(args.model_dir, args)
    data = table_of(bundle, args)
    train, holdout = split_of(bundle, data)
    record = evaluate(bundle, train, holdout, config, data_name=data.name, progress=RichProgress())
    if args.out is not None:
        record.save(args.out, overwrite=args.overwrite)
    emit(args, record.to_dict(), lambda: record)


def cmd_score(args: argparse.Namespace) -> None:
    """Score every layer of a saved model with importance signals."""
    from fuseprune.outputs import SCORES, check_file
    from fuseprune.tabular import split_of
    from fuseprune.tabular.scoring import score_tabular

    if args.out is not None:
        check_file(args.out, SCORES, args.overwrite, option="--out")
    bundle = load_model(args.model_dir, args)
    train, _ = split_of(bundle, table_of(bundle, args))
    signals = None if args.signals in (None, "all") else [s.strip() for s in args.signals.split(",") if s.strip()]
    scores = score_tabular(bundle, train, signals, n_rows=args.rows, batch_size=args.batch_size,
                           seed=args.seed, progress=RichProgress())
    if args.out is not None:
        (scores.to_json if args.out.endswith(".json") else scores.to_csv)(args.out, overwrite=args.overwrite)
    emit(args, scores.to_dict(), lambda: scores)


def cmd_run(args: argparse.Namespace) -> None:
    """The main job: the whole pipeline on one table (see ``fuseprune.pipeline``)."""
    from fuseprune.outputs import RUN, check_folder
    from fuseprune.pipeline import run_main

    read = read_options(args)
    config = config_from_args(RunConfig, args, RUN_FIELDS, delimiter=read.delimiter or "",
                              drop_columns=read.drop_columns, column_types=dict(read.column_types))
    check_folder(config.out, RUN, args.overwrite, option="--out")  # config.out defaults to runs/PRESET
    result = run_main(config, progress=RichProgress(), overwrite=args.overwrite)
    emit(args, {**result.to_dict(), "config": asdict(config)}, lambda: result)
    if not args.json:
        verb = "reused" if result.reused_teacher else "trained"
        out.print(f"teacher {verb}; everything is in {config.out}/ (teacher/, plan.json, student/, summary.json)")


def add_parsers(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add this module's commands; ``command(name, func, help)`` makes a sub-parser."""
    command("datasets", cmd_datasets, "list the bundled data sets")
    command("metrics", cmd_metrics, "list the evaluation metrics")
    p = command("train", cmd_train, "train a tabular model on a data set's training split")
    p.add_argument("--data", default=DEFAULT_DATASET, help="bundled data set name or CSV path (default: %(default)s)")
    add_config_options(p, TrainConfig, TRAIN_FIELDS, types={"seed": seed, **LOOP_TYPES},
                       helps={"preset": preset_help()}, unset={name: recipe_default(name) for name in TRAIN_OPTIONS})
    p.add_argument("--holdout", type=number(0.0, 1.0, low_open=True), default=DEFAULT_HOLDOUT,
                   help="fraction of rows held out (default: %(default)s)")
    p.add_argument("--split-seed", type=seed, default=0, help="seed of the train/holdout split (default: %(default)s)")
    add_table_options(p)
    p.add_argument("--out", required=True, help="model folder to write")
    add_overwrite(p)
    p = command("sample", cmd_sample, "sample rows from a saved model (streamed to a CSV or Parquet file)")
    p.add_argument("model_dir", help="model folder")
    add_no_verify(p)
    add_config_options(p, ScaleConfig, SAMPLE_FIELDS[:3], types={
        "rows": integer(1, MAX_SAMPLE_ROWS), "seed": seed, "temperature": number(0.0, 100.0, low_open=True)},
        limits={"rows": f"at most {MAX_SAMPLE_ROWS:,}", "temperature": "at most 100"})
    p.add_argument("--out", help="file to write: .csv or .parquet (default: show the first rows only)")
    add_overwrite(p)
    add_config_options(p, ScaleConfig, SAMPLE_FIELDS[3:], types={
        "jobs": integer(1, 1024), "batch_size": integer(0, 1_000_000), "chunk_rows": integer(1, 10_000_000)})
    p = command("evaluate", cmd_evaluate, "evaluate a saved model against its real holdout split")
    p.add_argument("model_dir", help="model folder")
    add_no_verify(p)
    p.add_argument("--data", help="data set name or CSV (default: the one the model records)")
    add_table_options(p)
    add_config_options(p, EvalConfig, EVALUATE_FIELDS, types={"seeds": seeds, "n_rows": integer(0, MAX_EVAL_ROWS)},
                       flags={"n_rows": "--rows"})
    p.add_argument("--out", help="JSON file for the evaluation record")
    add_overwrite(p)
    p = command("score", cmd_score, "score every layer of a saved model with importance signals")
    p.add_argument("model_dir", help="model folder")
    add_no_verify(p)
    p.add_argument("--data", help="data set name or CSV for calibration rows (default: the one the model records)")
    add_table_options(p)
    p.add_argument("--signals", default="all", help="comma-separated signal names, or all")
    p.add_argument(
        "--rows",
        type=integer(1, MAX_CALIBRATION_ROWS),
        default=DEFAULT_CALIBRATION_ROWS,
        help=f"calibration rows from the training split, at most {MAX_CALIBRATION_ROWS:,} (default: %(default)s)",
    )
    p.add_argument(
        "--batch-size",
        type=integer(1, 4096),
        default=DEFAULT_CALIBRATION_BATCH,
        help="calibration rows per pass, at most 4096 (default: %(default)s)",
    )
    p.add_argument("--seed", type=seed, default=0, help="seed of the row sample and projections (default: %(default)s)")
    p.add_argument("--out", help="write the score table to this .csv or .json file")
    add_overwrite(p)
    p = command("run", cmd_run, "the main job: train (or reuse) a teacher, prune half its layers, distill, compare")
    add_config_options(p, RunConfig, RUN_FIELDS, types={"seed": seed}, helps={"preset": preset_help(distillation=True)})
    add_overwrite(p)
    add_table_options(p)
