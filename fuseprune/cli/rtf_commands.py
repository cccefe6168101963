"""Commands that bring REaLTabFormer models in and out: import-rtf, export-rtf."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from fuseprune.cli.output import emit, table


def cmd_import_rtf(args: argparse.Namespace) -> None:
    """Import a tabular REaLTabFormer model as a fuseprune model folder."""
    from fuseprune.tabular.realtabformer.importer import import_realtabformer
    from fuseprune.tabular.realtabformer.layout import refuse_foreign

    refuse_foreign(Path(args.out))
    bundle = import_realtabformer(args.rtf_dir, args.data, holdout=args.holdout, split_seed=args.split_seed)
    bundle.save(args.out)
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
    from fuseprune.tabular import TabularGPT
    from fuseprune.tabular.realtabformer.exporter import export_realtabformer

    bundle = TabularGPT.load(args.model_dir)
    export_realtabformer(bundle, args.out)
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
    p.add_argument("--data", help="the table it was trained on (CSV or bundled name), recorded for evaluate, "
                                  "score, plan and distill; every row must fit the model's vocabulary")
    p.add_argument("--holdout", type=float, default=0.2,
                   help="fraction of --data held out for evaluation (default: %(default)s)")
    p.add_argument("--split-seed", type=int, default=0, help="seed of that split (default: %(default)s)")
    p = command("export-rtf", cmd_export_rtf, "write a model folder as a REaLTabFormer folder (load_from_dir loads it)")
    p.add_argument("model_dir", help="fuseprune model folder (imported, trained, pruned or distilled)")
    p.add_argument("--out", required=True, help="REaLTabFormer folder to write")
