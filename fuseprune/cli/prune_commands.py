"""Commands that make a model smaller: plan, prune, distill."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

from fuseprune.app_config import DEFAULT_CALIBRATION_ROWS
from fuseprune.cli.config_options import add_config_options, values_from_args
from fuseprune.cli.output import (
    LOOP_TYPES,
    MAX_CALIBRATION_ROWS,
    RichProgress,
    add_no_verify,
    add_overwrite,
    add_table_options,
    check_apart,
    emit,
    integer,
    load_model,
    number,
    recipe_default,
    seed,
    table_of,
)
from fuseprune.config import DistillConfig, PlanConfig

#: Largest ``--max-layers`` the plan command takes (C(64, 32) subsets would never finish anyway).
MAX_EXHAUSTIVE_LAYERS = 64

#: PlanConfig fields the plan command exposes (``--field-name``), in the order of its help.
PLAN_FIELDS = ("remove", "max_params", "mode", "protect", "seed")


def cmd_plan(args: argparse.Namespace) -> None:
    """Rank a saved model's layers with a strategy and write the prune plan."""
    from fuseprune.outputs import PLAN, check_file
    from fuseprune.tabular import split_of
    from fuseprune.tabular.pruning import make_tabular_plan

    check_file(args.out, PLAN, args.overwrite, option="--out")
    strategy = _strategy(args)
    bundle = load_model(args.model_dir, args)
    train, _ = split_of(bundle, table_of(bundle, args))
    plan = make_tabular_plan(bundle, train, strategy, **values_from_args(PlanConfig, args, PLAN_FIELDS),
                             n_rows=args.rows, progress=RichProgress())
    plan.save(args.out, overwrite=args.overwrite)
    emit(args, plan.to_dict(), lambda: render_plan(plan, args.out))


#: Command-line flags that set strategy options: option name -> flag. A flag is passed on only to a
#: strategy whose options class has that option; given for another strategy, it is refused.
STRATEGY_FLAGS = {
    "bank": "--bank", "exclude_datasets": "--exclude-bank-dataset", "allow_overlap": "--allow-bank-overlap",
    "max_layers": "--max-layers",
}


def _strategy(args: argparse.Namespace) -> Any:
    """The strategy named by ``--strategy``, built with the options its flags set."""
    from fuseprune.errors import ConfigError
    from fuseprune.pruning import get_strategy, strategy_options

    given = {"bank": args.bank, "exclude_datasets": tuple(args.exclude_bank_dataset or ()) or None,
             "allow_overlap": args.allow_bank_overlap or None, "max_layers": args.max_layers}
    given = {name: value for name, value in given.items() if value is not None}
    takes = strategy_options(args.strategy).names()  # an unknown strategy is refused with the known ones
    for name in given:
        if name not in takes:
            options = f"its options are {', '.join(takes)}" if takes else "it takes no options"
            raise ConfigError(f"`{STRATEGY_FLAGS[name]}` does not apply to strategy {args.strategy!r} ({options}); "
                              "leave it out or pick a strategy that takes it.")
    return get_strategy(args.strategy, **given)


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
    from fuseprune.compress.plan import is_compression_plan
    from fuseprune.outputs import MODEL, check_folder
    from fuseprune.pruning import PrunePlan
    from fuseprune.tabular.pruning import prune_tabular

    check_folder(args.out, MODEL, args.overwrite, option="--out")
    if is_compression_plan(args.plan):
        compress_with_plan(args)
        return
    bundle = load_model(args.model_dir, args)
    plan = PrunePlan.load(args.plan)
    pruned = prune_tabular(bundle, plan)
    pruned.save(args.out, overwrite=args.overwrite)
    payload = {"out": args.out, "layers_before": plan.model.num_layers, "layers_after": plan.num_layers_after,
               "parameters_before": bundle.num_parameters, "parameters_after": pruned.num_parameters,
               "kept_layers": list(plan.kept_layers)}
    rows = [("model folder", args.out), ("layers", f"{plan.model.num_layers} -> {plan.num_layers_after}"),
            ("kept (teacher) layers", ", ".join(map(str, plan.kept_layers))),
            ("parameters", f"{bundle.num_parameters:,} -> {pruned.num_parameters:,}")]
    from fuseprune.cli.output import table

    emit(args, payload, lambda: table("pruned", ["", ""], rows))


def compress_with_plan(args: argparse.Namespace) -> None:
    """Apply a compression plan (``fuseprune prune MODEL PLAN --out DIR`` with a compression plan)."""
    from fuseprune.cli.output import table
    from fuseprune.compress import CompressionPlan, apply_plan, nonzero_parameters

    plan = CompressionPlan.load(args.plan)
    bundle = load_model(args.model_dir, args)
    small = apply_plan(bundle, plan)
    small.save(args.out, overwrite=args.overwrite)
    payload = {"out": args.out, "order": list(plan.order), "parameters_before": bundle.num_parameters,
               "parameters_after": small.num_parameters, "nonzero_after": nonzero_parameters(small.model)}
    rows = [("model folder", args.out), ("steps", " -> ".join(plan.order)),
            ("parameters", f"{bundle.num_parameters:,} -> {small.num_parameters:,}"),
            ("non-zero parameters", f"{payload['nonzero_after']:,}")]
    emit(args, payload, lambda: table("compressed", ["", ""], rows))


def cmd_distill(args: argparse.Namespace) -> None:
    """Heal a pruned student by distillation from its teacher."""
    from fuseprune.cli.output import table
    from fuseprune.distill.lineage import teacher_layer_map
    from fuseprune.outputs import CHECKPOINT, MODEL, check_folder
    from fuseprune.presets import preset_of
    from fuseprune.tabular import split_of
    from fuseprune.tabular.distill import distill_tabular

    check_apart(out=args.out, checkpoint=args.checkpoint)
    check_folder(args.out, MODEL, args.overwrite, option="--out")
    if args.checkpoint is not None:
        check_folder(args.checkpoint, CHECKPOINT, args.overwrite, option="--checkpoint")
    student, teacher = load_model(args.student_dir, args), load_model(args.teacher, args)
    overrides = values_from_args(DistillConfig, args, (*_DISTILL_OPTIONS, *_RECIPE_OPTIONS))
    recipe = preset_of(teacher.model.config, teacher.info.get("preset")).distillation
    config = DistillConfig.from_recipe(recipe, **overrides)
    layer_map = teacher_layer_map(student.info, teacher.model) if config.hidden_weight > 0 else None
    train, _ = split_of(teacher, table_of(teacher, args))
    healed, history = distill_tabular(student, teacher, train, config, layer_map=layer_map,
                                      checkpoint_dir=args.checkpoint, overwrite=args.overwrite, progress=RichProgress())
    healed.save(args.out, overwrite=args.overwrite)
    best = history.val_loss[history.best_epoch]
    payload = {"out": args.out, "config": config.to_dict(), "history": vars(history)}
    rows = [("model folder", args.out), ("epochs", len(history.val_loss)), ("stopped by", history.stopped),
            ("student validation NLL per row", f"{history.val_loss[0]:.3f} (first epoch) -> {best:.3f} (best)"),
            ("teacher validation NLL per row", f"{history.teacher_val_loss:.3f}"),
            ("seconds", f"{history.seconds:.1f}")]
    emit(args, payload, lambda: table("distilled", ["", ""], rows))


_DISTILL_OPTIONS = ("hidden_weight", "hidden_loss", "seed")
#: Parsers of distill's options; the rest take any number, checked by DistillConfig.
_DISTILL_TYPES: dict[str, Callable[[str], Any]] = {"hidden_loss": str, "seed": seed, **LOOP_TYPES}
#: Settings whose defaults come from the distillation recipe of the teacher's preset.
_RECIPE_OPTIONS = ("alpha", "temperature", "max_epochs", "max_minutes", "batch_size", "learning_rate", "weight_decay",
                   "warmup_fraction", "patience")


def add_parsers(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add this module's commands; ``command(name, func, help)`` makes a sub-parser."""
    p = command("plan", cmd_plan, "rank a model's layers with a strategy and write a prune plan (JSON)")
    p.add_argument("model_dir", help="model folder")
    add_no_verify(p)
    p.add_argument(
        "--strategy",
        default="fusion-rf",
        help="a signal, random, ablation or a registered strategy (default: %(default)s)",
    )
    target = p.add_mutually_exclusive_group(required=True)
    add_config_options(target, PlanConfig, PLAN_FIELDS[:2], types={"max_params": integer(1, 10**12)})
    add_config_options(p, PlanConfig, PLAN_FIELDS[2:4])
    p.add_argument("--data", help="data set name or CSV for calibration rows (default: the one the model records)")
    add_table_options(p)
    p.add_argument(
        "--rows",
        type=integer(1, MAX_CALIBRATION_ROWS),
        default=DEFAULT_CALIBRATION_ROWS,
        help=f"calibration rows from the training split, at most {MAX_CALIBRATION_ROWS:,} (default: %(default)s)",
    )
    add_config_options(p, PlanConfig, PLAN_FIELDS[4:], types={"seed": seed})
    p.add_argument("--bank", help="bank CSV of a strategy fitted on one (default: the shipped bank)")
    p.add_argument(
        "--exclude-bank-dataset",
        action="append",
        metavar="NAME",
        help="leave this data set's bank rows out of the strategy's fit; repeatable",
    )
    p.add_argument(
        "--allow-bank-overlap", action="store_true", help="rank a model even if its own rows are in the bank"
    )
    p.add_argument(
        "--max-layers",
        type=integer(1, MAX_EXHAUSTIVE_LAYERS),
        help="largest layer count the exhaustive strategy searches (default: 12; every subset is evaluated)",
    )
    p.add_argument("--out", required=True, help="plan JSON file to write")
    add_overwrite(p)
    p = command("prune", cmd_prune, "apply a prune plan or a compression plan: write a smaller model folder")
    p.add_argument("model_dir", help="model folder the plan was made for")
    add_no_verify(p)
    p.add_argument("plan", help="plan JSON file (a layer plan, or a compression plan)")
    p.add_argument("--out", required=True, help="model folder to write")
    add_overwrite(p)
    p = command("distill", cmd_distill, "heal a pruned student by knowledge distillation from its teacher")
    p.add_argument("student_dir", help="pruned model folder")
    add_no_verify(p)
    p.add_argument("--teacher", required=True, help="teacher model folder")
    p.add_argument("--data", help="data set name or CSV (default: the one the teacher records)")
    add_table_options(p)
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--checkpoint", help="folder for resumable checkpoints (resumed if present)")
    add_overwrite(p, "--out and --checkpoint folders")
    options = (*_DISTILL_OPTIONS, *_RECIPE_OPTIONS)
    types = {name: _DISTILL_TYPES.get(name, number(-math.inf)) for name in options}
    add_config_options(p, DistillConfig, options, types=types,
                       unset={name: recipe_default(name, "distillation") for name in _RECIPE_OPTIONS})
