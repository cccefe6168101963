"""Commands that bring REaLTabFormer models in and out: import-rtf, export-rtf."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from fuseprune.cli.boundary import UsageError
from fuseprune.cli.output import (
    add_no_verify,
    add_overwrite,
    add_table_options,
    emit,
    load_model,
    number,
    read_options,
    seed,
    table,
)
from fuseprune.config import DEFAULT_HOLDOUT


def cmd_import_rtf(args: argparse.Namespace) -> None:
    """Import a tabular REaLTabFormer model as a fuseprune model folder."""
    from fuseprune.data import load_table
    from fuseprune.outputs import MODEL, check_folder
    from fuseprune.tabular.realtabformer.importer import import_realtabformer

    if args.data is None and (args.delimiter is not None or args.drop_column or args.column_type):
        raise UsageError("--delimiter, --drop-column and --column-type say how to read --data; pass --data too.")
    check_folder(args.out, MODEL, args.overwrite, option="--out")
    data = None
    if args.data is not None:
        read = read_options(args)
        data = load_table(args.data, read.column_types, delimiter=read.delimiter, drop_columns=read.drop_columns)
    bundle = import_realtabformer(args.rtf_dir, data, holdout=args.holdout, split_seed=args.split_seed)
    bundle.save(args.out, overwrite=args.overwrite)
    config = bundle.model.config
    payload = {"model_dir": args.out, "source": args.rtf_dir, "layers": config.n_layer, "width": config.n_embd,
               "heads": config.n_head, "parameters": bundle.num_parameters, "columns": bundle.codec.column_names,
               "tokens": bundle.codec.vocab_size, "positions": bundle.codec.sequence_length,
               "data": bundle.info.get("data", {}).get("source")}
    rows = [("model folder", args.out), ("from", args.rtf_dir),
            ("GPT-2", f"{config.n_layer} layers x {config.n_embd} wide, {config.n_head} heads"),
            ("parameters", f"{bundle.num_parameters:,}"), ("columns", ", ".join(bundle.codec.column_names)),
            ("tokens per row", bundle.codec.sequence_length), ("vocabulary", bundle.codec.vocab_size),
            ("data", payload["data"] or "none recorded: pass --data to evaluate, score, plan and distill")]
    emit(args, payload, lambda: table("imported a REaLTabFormer model", ["", ""], rows))


def cmd_export_rtf(args: argparse.Namespace) -> None:
    """Write a fuseprune model folder as a REaLTabFormer folder."""
    from fuseprune.outputs import REALTABFORMER, check_folder
    from fuseprune.tabular.realtabformer.exporter import export_realtabformer

    check_folder(args.out, REALTABFORMER, args.overwrite, option="--out")
    bundle = load_model(args.model_dir, args)
    export_realtabformer(bundle, args.out, overwrite=args.overwrite)
    config = bundle.model.config
    payload = {"out": args.out, "model_dir": args.model_dir, "layers": config.n_layer,
               "parameters": bundle.num_parameters}
    rows = [("REaLTabFormer folder", args.out), ("from", args.model_dir), ("layers", config.n_layer),
            ("parameters", f"{bundle.num_parameters:,}"),
            ("load it with", f"REaLTabFormer.load_from_dir({args.out!r})")]
    emit(args, payload, lambda: table("exported to REaLTabFormer", ["", ""], rows))


def add_parsers(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add this module's commands; ``command(name, func, help)`` makes a sub-parser."""
    p = command("import-rtf", cmd_import_rtf, "import a tabular REaLTabFormer model (a folder its save() wrote)")
    p.add_argument("rtf_dir", help="REaLTabFormer folder holding rtf_config.json and rtf_model.pt")
    p.add_argument("--out", required=True, help="fuseprune model folder to write")
    add_overwrite(p)
    p.add_argument("--data", help="the table it was trained on (CSV or bundled name), recorded with how it was read "
                                  "for evaluate, score, plan and distill; every row must fit the model's vocabulary")
    add_table_options(p)
    p.add_argument("--holdout", type=number(0.0, 1.0, low_open=True), default=DEFAULT_HOLDOUT,
                   help="fraction of --data held out for evaluation, above 0 and at most 1 (default: %(default)s)")
    p.add_argument("--split-seed", type=seed, default=0, help="seed of that split (default: %(default)s)")
    p = command("export-rtf", cmd_export_rtf, "write a model folder as a REaLTabFormer folder (load_from_dir loads it)")
    p.add_argument("model_dir", help="fuseprune model folder (imported, trained, pruned or distilled)")
    add_no_verify(p)
    p.add_argument("--out", required=True, help="REaLTabFormer folder to write")
    add_overwrite(p)
