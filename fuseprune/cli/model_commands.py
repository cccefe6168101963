"""Commands about one model: datasets, train, sample, evaluate, score, run."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import asdict

from fuseprune.cli.output import RichProgress, data_of, emit, out, seeds, table

CHUNK_ROWS = 2048  # fuseprune.tabular.stream.CHUNK_ROWS, repeated so --help does not import torch
PRESET_HELP = "model size: tiny, default or seed (default: %(default)s)"
DEFAULT_DATASET = "breast-cancer-wisconsin"


def cmd_datasets(args: argparse.Namespace) -> None:
    """List the bundled data sets."""
    from fuseprune.data import DATASETS

    infos = [DATASETS.get(name) for name in DATASETS.names()]
    payload = [{"name": i.name, "source": i.source, "description": i.description} for i in infos]
    rows = [(i.name, i.source, i.description) for i in infos]
    emit(args, payload, lambda: table("bundled data sets (all offline)", ["name", "source", "description"], rows))


def cmd_train(args: argparse.Namespace) -> None:
    """Train a model on a table's training split and save it."""
    from fuseprune.data import load_table, parse_column_overrides
    from fuseprune.tabular import TrainConfig, train_on_table

    data = load_table(args.data, parse_column_overrides(args.column_type))
    config = TrainConfig(preset=args.preset, seed=args.seed, max_epochs=args.max_epochs, max_minutes=args.max_minutes)
    bundle = train_on_table(data, config, holdout=args.holdout, split_seed=args.split_seed, progress=RichProgress())
    bundle.save(args.out)
    history = bundle.info["history"]
    payload = {"model_dir": args.out, "parameters": bundle.num_parameters, **history}
    rows = [("model folder", args.out), ("parameters", f"{bundle.num_parameters:,}"),
            ("epochs", len(history["val_loss"])), ("best epoch", history["best_epoch"] + 1),
            ("best validation NLL per row", f"{min(history['val_loss']):.4f}"),
            ("stopped by", history["stopped"]), ("seconds", f"{history['seconds']:.1f}")]
    emit(args, payload, lambda: table(f"trained {args.preset} on {args.data}", ["", ""], rows))


def cmd_sample(args: argparse.Namespace) -> None:
    """Sample rows from a saved model, streamed to a CSV or Parquet file in chunks."""
    from fuseprune.tabular.stream import ScaleConfig, sample_to_file
    from fuseprune.tabular.writers import terminate_as_interrupt

    config = ScaleConfig(rows=args.rows, seed=args.seed, temperature=args.temperature, batch_size=args.batch_size,
                         jobs=args.jobs, backend=args.backend, ray_address=args.ray_address,
                         chunk_rows=args.chunk_rows)
    with terminate_as_interrupt():
        result = sample_to_file(args.model_dir, args.out, config, progress=RichProgress())
    payload = {"rows": result.rows, "out": args.out, "seconds": result.seconds,
               "rows_per_second": result.rows_per_second, "head": json.loads(result.head.to_json(orient="records"))}
    preview = result.head.astype(str)
    title = (f"{result.rows} sampled rows" + (f" -> {args.out}" if args.out else "")
             + f" ({result.rows_per_second:,.0f} rows/s); first {len(preview)}")
    emit(args, payload, lambda: table(title, list(preview.columns), preview.values.tolist()))


def cmd_evaluate(args: argparse.Namespace) -> None:
    """Evaluate a saved model against the holdout split it never trained on."""
    from fuseprune.data import load_table
    from fuseprune.evaluation import EvalConfig, evaluate
    from fuseprune.tabular import TabularGPT, split_of

    bundle = TabularGPT.load(args.model_dir)
    data = load_table(data_of(bundle, args.data))
    train, holdout = split_of(bundle, data)
    config = EvalConfig(seeds=tuple(args.seeds), n_rows=args.rows)
    record = evaluate(bundle, train, holdout, config, data_name=data.name, progress=RichProgress())
    if args.out:
        record.save(args.out)
    emit(args, record.to_dict(), lambda: record)


def cmd_score(args: argparse.Namespace) -> None:
    """Score every layer of a saved model with importance signals."""
    from fuseprune.data import load_table
    from fuseprune.scoring import score_tabular
    from fuseprune.tabular import TabularGPT, split_of

    bundle = TabularGPT.load(args.model_dir)
    train, _ = split_of(bundle, load_table(data_of(bundle, args.data)))
    signals = None if args.signals in (None, "all") else [s.strip() for s in args.signals.split(",") if s.strip()]
    scores = score_tabular(bundle, train, signals, n_rows=args.rows, batch_size=args.batch_size,
                           seed=args.seed, progress=RichProgress())
    if args.out:
        (scores.to_json if args.out.endswith(".json") else scores.to_csv)(args.out)
    emit(args, scores.to_dict(), lambda: scores)


def cmd_run(args: argparse.Namespace) -> None:
    """The main job: the whole pipeline on one table (see ``fuseprune.pipeline``)."""
    from fuseprune.pipeline import RunConfig, run_main

    config = RunConfig(data=args.data, preset=args.preset, seed=args.seed, remove=args.remove, out=args.out,
                       retrain=args.retrain)
    result = run_main(config, progress=RichProgress())
    emit(args, {**result.to_dict(), "config": asdict(config)}, lambda: result)
    if not args.json:
        verb = "reused" if result.reused_teacher else "trained"
        out.print(f"teacher {verb}; everything is in {config.out}/ (teacher/, plan.json, student/, summary.json)")


def add_parsers(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add this module's commands; ``command(name, func, help)`` makes a sub-parser."""
    command("datasets", cmd_datasets, "list the bundled data sets")
    p = command("train", cmd_train, "train a tabular model on a data set's training split")
    p.add_argument("--data", default=DEFAULT_DATASET, help="bundled data set name or CSV path (default: %(default)s)")
    p.add_argument("--preset", default="default", help=PRESET_HELP)
    p.add_argument("--seed", type=int, default=0, help="seed of initialisation, shuffling and validation split (default: 0)")
    p.add_argument("--max-epochs", type=int, default=200, help="upper bound on passes over the training rows (default: 200)")
    p.add_argument("--max-minutes", type=float, default=0.0, help="wall-clock budget in minutes (default: 0 = none)")
    p.add_argument("--holdout", type=float, default=0.2, help="fraction of rows held out (default: %(default)s)")
    p.add_argument("--split-seed", type=int, default=0, help="seed of the train/holdout split (default: %(default)s)")
    p.add_argument("--column-type", action="append", metavar="NAME=KIND",
                   help="override a column's kind (categorical, numerical, boolean); repeatable")
    p.add_argument("--out", required=True, help="model folder to write")
    p = command("sample", cmd_sample, "sample rows from a saved model (streamed to a CSV or Parquet file)")
    p.add_argument("model_dir", help="model folder")
    p.add_argument("--rows", type=int, default=100, help="rows to sample (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed; row r of a seed is always the same row (default: %(default)s)")
    p.add_argument("--temperature", type=float, default=1.0, help="softmax temperature (default: %(default)s)")
    p.add_argument("--out", help="file to write: .csv or .parquet (default: show the first rows only)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes sampling at once (default: %(default)s)")
    p.add_argument("--backend", default="local", help="where workers run: local or ray (default: %(default)s)")
    p.add_argument("--ray-address", help="an existing Ray cluster for --backend ray (default: start a local one)")
    p.add_argument("--batch-size", type=int, default=0, help="rows decoded at once (default: 0 = the fastest for the model's width)")
    p.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS, help="rows per chunk of work; does not change the rows (default: %(default)s)")
    p = command("evaluate", cmd_evaluate, "evaluate a saved model against its real holdout split")
    p.add_argument("model_dir", help="model folder")
    p.add_argument("--data", help="data set name or CSV (default: the one the model records)")
    p.add_argument("--seeds", type=seeds, default=[0, 1, 2], help="sampling seeds, comma-separated (default: 0,1,2)")
    p.add_argument("--rows", type=int, default=0, help="rows sampled per seed for scoring (default: the training split size, at most 2000; never more than 20000)")
    p.add_argument("--out", help="JSON file for the evaluation record")
    p = command("score", cmd_score, "score every layer of a saved model with importance signals")
    p.add_argument("model_dir", help="model folder")
    p.add_argument("--data", help="data set name or CSV for calibration rows (default: the one the model records)")
    p.add_argument("--signals", default="all", help="comma-separated signal names, or all")
    p.add_argument("--rows", type=int, default=256, help="calibration rows from the training split (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=64, help="calibration rows per pass (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the row sample and projections (default: %(default)s)")
    p.add_argument("--out", help="write the score table to this .csv or .json file")
    p = command("run", cmd_run, "the main job: train (or reuse) a teacher, prune half its layers, distill, compare")
    p.add_argument("--data", default=DEFAULT_DATASET, help="bundled data set name or CSV path (default: %(default)s)")
    p.add_argument("--preset", default="default", help=PRESET_HELP)
    p.add_argument("--seed", type=int, default=0, help="training seed (default: %(default)s)")
    p.add_argument("--out", default="runs/default", help="run folder (default: %(default)s)")
    p.add_argument("--remove", default="50%", help="layers to remove: a count or a percentage (default: 50%%)")
    p.add_argument("--retrain", action="store_true", help="train a new teacher even if the run folder has one")
