"""Commands that make a model smaller: plan, prune, distill."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from fuseprune.cli.output import RichProgress, data_of, emit, names, recipe_help


def cmd_plan(args: argparse.Namespace) -> None:
    """Rank a saved model's layers with a strategy and write the prune plan."""
    from fuseprune.data import load_table
    from fuseprune.pruning import make_tabular_plan
    from fuseprune.tabular import TabularGPT, split_of

    bundle = TabularGPT.load(args.model_dir)
    train, _ = split_of(bundle, load_table(data_of(bundle, args.data)))
    plan = make_tabular_plan(
        bundle, train, _strategy(args), remove=args.remove, max_params=args.max_params, mode=args.mode,
        protect=tuple(names(args.protect or "")), seed=args.seed, n_rows=args.rows, progress=RichProgress(),
    )
    plan.save(args.out)
    emit(args, plan.to_dict(), lambda: render_plan(plan, args.out))


def _strategy(args: argparse.Namespace) -> Any:
    """The strategy name, or a fusion strategy built with the bank options."""
    if not args.strategy.startswith("fusion-"):
        return args.strategy
    from fuseprune.fusion import FUSION_STRATEGIES
    from fuseprune.pruning import get_strategy

    if args.strategy not in FUSION_STRATEGIES:
        return get_strategy(args.strategy)  # raises the error that lists the known strategies
    return FUSION_STRATEGIES[args.strategy](
        bank=args.bank, exclude_datasets=tuple(args.exclude_bank_dataset or ()), allow_overlap=args.allow_bank_overlap
    )


def render_plan(plan: Any, path: str) -> Any:
    """A rich table of a plan: per layer, the scores it was ranked by and when it goes."""
    from rich.table import Table

    title = (f"prune plan ({plan.strategy}, {plan.mode}): remove {len(plan.remove)} of {plan.model.num_layers} "
             f"layers -> {path}")
    result = Table(title=title, caption="scores: keep score in [0, 1], higher = keep; lowest goes first")
    result.add_column("layer", justify="right")
    columns = dict(plan.signal_scores)
    if plan.fused_scores is not None:
        columns = {"fused": plan.fused_scores, **columns}
    for name in list(columns)[:6]:
        result.add_column(name, justify="right")
    result.add_column("removed", justify="right")
    order = {layer: step + 1 for step, layer in enumerate(plan.removal_order)}
    for layer in range(plan.model.num_layers):
        verdict = f"step {order[layer]}" if layer in order else "kept"
        result.add_row(str(layer), *(f"{columns[n][layer]:.3f}" for n in list(columns)[:6]), verdict,
                       style="dim" if layer in order else None)
    return result


def cmd_prune(args: argparse.Namespace) -> None:
    """Apply a plan to a saved model and write the smaller model folder."""
    from fuseprune.pruning import PrunePlan, prune_tabular
    from fuseprune.tabular import TabularGPT

    bundle = TabularGPT.load(args.model_dir)
    plan = PrunePlan.load(args.plan)
    pruned = prune_tabular(bundle, plan)
    pruned.save(args.out)
    payload = {"out": args.out, "layers_before": plan.model.num_layers, "layers_after": plan.num_layers_after,
               "parameters_before": bundle.num_parameters, "parameters_after": pruned.num_parameters,
               "kept_layers": list(plan.kept_layers)}
    rows = [("model folder", args.out), ("layers", f"{plan.model.num_layers} -> {plan.num_layers_after}"),
            ("kept (teacher) layers", ", ".join(map(str, plan.kept_layers))),
            ("parameters", f"{bundle.num_parameters:,} -> {pruned.num_parameters:,}")]
    from fuseprune.cli.output import table

    emit(args, payload, lambda: table("pruned", ["", ""], rows))


def cmd_distill(args: argparse.Namespace) -> None:
    """Heal a pruned student by distillation from its teacher."""
    from fuseprune.cli.output import table
    from fuseprune.data import load_table
    from fuseprune.distill import distill_tabular
    from fuseprune.presets import distill_config, preset_of
    from fuseprune.tabular import TabularGPT, split_of

    student, teacher = TabularGPT.load(args.student_dir), TabularGPT.load(args.teacher)
    train, _ = split_of(teacher, load_table(data_of(teacher, args.data)))
    overrides = {name: getattr(args, name) for name in (*_DISTILL_OPTIONS, *_RECIPE_OPTIONS)}
    config = distill_config(preset_of(teacher.model.config, teacher.info.get("preset")), **overrides)
    layer_map = student.info.get("pruning", {}).get("kept_layers") if config.hidden_weight > 0 else None
    healed, history = distill_tabular(student, teacher, train, config, layer_map=layer_map,
                                      checkpoint_dir=args.checkpoint, progress=RichProgress())
    healed.save(args.out)
    best = history.val_loss[history.best_epoch]
    payload = {"out": args.out, "config": config.to_dict(), "history": vars(history)}
    rows = [("model folder", args.out), ("epochs", len(history.val_loss)), ("stopped by", history.stopped),
            ("student validation NLL per row", f"{history.val_loss[0]:.3f} (first epoch) -> {best:.3f} (best)"),
            ("teacher validation NLL per row", f"{history.teacher_val_loss:.3f}"),
            ("seconds", f"{history.seconds:.1f}")]
    emit(args, payload, lambda: table("distilled", ["", ""], rows))


_DISTILL_OPTIONS = ("hidden_weight", "hidden_loss", "seed")
#: Settings whose defaults come from the distillation recipe of the teacher's preset.
_RECIPE_OPTIONS = ("alpha", "temperature", "max_epochs", "max_minutes", "batch_size", "learning_rate", "weight_decay",
                   "warmup_fraction", "patience")
_LOSS_HELP = {"alpha": "weight of the KL term; 1 - alpha weighs the data cross-entropy",
              "temperature": "softmax temperature T of teacher and student for the KL"}


def add_parsers(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add this module's commands; ``command(name, func, help)`` makes a sub-parser."""
    p = command("plan", cmd_plan, "rank a model's layers with a strategy and write a prune plan (JSON)")
    p.add_argument("model_dir", help="model folder")
    p.add_argument("--strategy", default="fusion-rf", help="a signal, random, ablation, fusion-lr or fusion-rf (default: %(default)s)")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--remove", help="layers to remove: a count (3) or a percentage (50%%)")
    target.add_argument("--max-params", type=int, help="remove layers until at most this many parameters remain")
    p.add_argument("--mode", default="one-shot", help="one-shot (rank once) or iterative (remove one, re-score, repeat)")
    p.add_argument("--protect", help="comma-separated layers never to remove: first, last or indices")
    p.add_argument("--data", help="data set name or CSV for calibration rows (default: the one the model records)")
    p.add_argument("--rows", type=int, default=256, help="calibration rows from the training split (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of scoring and of the random strategy (default: %(default)s)")
    p.add_argument("--bank", help="fusion bank CSV for fusion strategies (default: the shipped bank)")
    p.add_argument("--exclude-bank-dataset", action="append", metavar="NAME", help="leave this data set's bank rows out of the fusion fit; repeatable")
    p.add_argument("--allow-bank-overlap", action="store_true", help="rank a model even if its own rows are in the bank")
    p.add_argument("--out", required=True, help="plan JSON file to write")
    p = command("prune", cmd_prune, "apply a prune plan: write a smaller model folder")
    p.add_argument("model_dir", help="model folder the plan was made for")
    p.add_argument("plan", help="plan JSON file")
    p.add_argument("--out", required=True, help="model folder to write")
    p = command("distill", cmd_distill, "heal a pruned student by knowledge distillation from its teacher")
    p.add_argument("student_dir", help="pruned model folder")
    p.add_argument("--teacher", required=True, help="teacher model folder")
    p.add_argument("--data", help="data set name or CSV (default: the one the teacher records)")
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--checkpoint", help="folder for resumable checkpoints (resumed if present)")
    for name in _DISTILL_OPTIONS:
        kind = str if name == "hidden_loss" else int if name == "seed" else float
        p.add_argument(f"--{name.replace('_', '-')}", type=kind, help=f"see DistillConfig.{name}")
    for name in _RECIPE_OPTIONS:
        kind = int if name in ("max_epochs", "batch_size", "patience") else float
        text = recipe_help(name, "distillation", _LOSS_HELP.get(name))
        p.add_argument(f"--{name.replace('_', '-')}", type=kind, help=f"{text}; the teacher's preset")
