"""Commands about one model: datasets, train, sample, evaluate, score, run."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import asdict

from fuseprune.cli.output import RichProgress, data_of, emit, out, preset_help, recipe_help, seeds, table

#: TrainConfig fields the train command exposes; unset ones come from the preset's training recipe.
TRAIN_OPTIONS = ("max_epochs", "max_minutes", "batch_size", "learning_rate", "weight_decay", "warmup_fraction", "patience")
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
    config = TrainConfig(preset=args.preset, seed=args.seed, **{name: getattr(args, name) for name in TRAIN_OPTIONS})
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
    """Sample rows from a saved model."""
    from fuseprune.files import write_text_atomic
    from fuseprune.tabular import TabularGPT, sample_rows

    bundle = TabularGPT.load(args.model_dir)
    rows = sample_rows(bundle, args.rows, seed=args.seed, temperature=args.temperature, progress=RichProgress())
    if args.out:
        write_text_atomic(args.out, rows.to_csv(index=False))
    payload = {"rows": len(rows), "out": args.out, "head": json.loads(rows.head(10).to_json(orient="records"))}
    preview = rows.head(10).astype(str)
    title = f"{len(rows)} sampled rows" + (f" -> {args.out}" if args.out else " (first 10)")
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

    config = RunConfig(data=args.data, preset=args.preset, seed=args.seed, remove=args.remove,
                       out=args.out or f"runs/{args.preset}", retrain=args.retrain)
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
    p.add_argument("--preset", default="default", help=preset_help())
    p.add_argument("--seed", type=int, default=0, help="seed of initialisation, shuffling and validation split (default: 0)")
    for name in TRAIN_OPTIONS:
        kind = int if name in ("max_epochs", "batch_size", "patience") else float
        p.add_argument(f"--{name.replace('_', '-')}", type=kind, help=recipe_help(name))
    p.add_argument("--holdout", type=float, default=0.2, help="fraction of rows held out (default: %(default)s)")
    p.add_argument("--split-seed", type=int, default=0, help="seed of the train/holdout split (default: %(default)s)")
    p.add_argument("--column-type", action="append", metavar="NAME=KIND",
                   help="override a column's kind (categorical, numerical, boolean); repeatable")
    p.add_argument("--out", required=True, help="model folder to write")
    p = command("sample", cmd_sample, "sample rows from a saved model")
    p.add_argument("model_dir", help="model folder")
    p.add_argument("--rows", type=int, default=100, help="rows to sample (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default: %(default)s)")
    p.add_argument("--temperature", type=float, default=1.0, help="softmax temperature (default: %(default)s)")
    p.add_argument("--out", help="CSV file to write")
    p = command("evaluate", cmd_evaluate, "evaluate a saved model against its real holdout split")
    p.add_argument("model_dir", help="model folder")
    p.add_argument("--data", help="data set name or CSV (default: the one the model records)")
    p.add_argument("--seeds", type=seeds, default=[0, 1, 2], help="sampling seeds, comma-separated (default: 0,1,2)")
    p.add_argument("--rows", type=int, default=0, help="rows sampled per seed (default: the training split size, at most 2000)")
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
    p.add_argument("--preset", default="default", help=preset_help(distillation=True))
    p.add_argument("--seed", type=int, default=0, help="training seed (default: %(default)s)")
    p.add_argument("--out", help="run folder (default: runs/PRESET)")
    p.add_argument("--remove", default="50%", help="layers to remove: a count or a percentage (default: 50%%)")
    p.add_argument("--retrain", action="store_true", help="train a new teacher even if the run folder has one")
