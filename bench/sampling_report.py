"""The tables bench/sampling.py prints, and the acceptance targets of issue 12 its figures decide."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

METHODS = ("ours", "row", "batched", "peer")
LABELS = {"ours": "fuseprune", "row": "generate 1 row", "batched": "generate batch", "peer": "REaLTabFormer"}


def report(results: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    """The tables on stdout."""
    console = Console(width=max(Console().width, 150))
    table = Table(title=f"rows per second on {meta['threads']} threads, median of {meta['rounds']} alternating rounds"
                        + (" -- BUSY MACHINE, figures not comparable" if meta["busy"] else ""))
    for column in ("model", "layers", "batch", *[LABELS[m] for m in METHODS], "ours / row", "ours / batched",
                   "ours / peer"):
        table.add_column(column, justify="right")
    for r in results:
        rate = r["rows_per_second"]
        cells = [f"{rate[m]:,.1f}" if m in rate else "skipped" for m in METHODS]
        ratios = [f"{rate['ours'] / rate[m]:.2f}x" if m in rate else "" for m in ("row", "batched", "peer")]
        table.add_row(r["model"], str(r["layers"]), str(r["batch_size"]), *cells, *ratios)
    console.print(table)
    compute_table = Table(title="compute: FLOPs per sampled row against the machine's fp32 matmul rate (the limit)")
    for column in (
        "model",
        "FLOPs/row dense",
        "FLOPs/row executed",
        "mm GFLOP/s (block shapes)",
        "mm GFLOP/s (2048^2)",
        "rows/s at the limit (dense)",
        "fraction of the limit",
        "executed efficiency",
    ):
        compute_table.add_column(column, justify="right")
    for r in results:
        compute_table.add_row(
            r["model"], f"{r['dense_flops_per_row'] / 1e6:,.1f} M", f"{r['executed_flops_per_row'] / 1e6:,.1f} M",
            f"{r['matmul_model_shapes'] / 1e9:.1f}", f"{r['matmul_square'] / 1e9:.1f}",
            f"{r['rows_per_second_at_limit']:,.1f}", f"{r['fraction_of_limit']:.3f}", f"{r['executed_efficiency']:.3f}")
    console.print(compute_table)
    for r in results:
        if r["peer_skipped"]:
            console.print(f"{r['model']}: REaLTabFormer column skipped: {r['peer_skipped']}")
    for line in targets(results):
        console.print(line)


def targets(results: list[dict[str, Any]]) -> list[str]:
    """The acceptance targets of issue 12 that these figures decide."""
    by_name, lines = {r["model"]: r for r in results}, []
    for r in results:
        rate = r["rows_per_second"]
        lines.append(f"{r['model']}: ours / row-by-row {rate['ours'] / rate['row']:.2f}x (target 5x), "
                     f"ours / batched {rate['ours'] / rate['batched']:.2f}x (target 1.5x)")
    seed, half = by_name.get("seed"), by_name.get("seed half")
    if seed:
        lines.append(f"seed: {seed['fraction_of_limit']:.3f} of the compute limit (dense FLOPs; target 0.85); "
                     f"executed-FLOP efficiency {seed['executed_efficiency']:.3f}")
        if "peer" in seed["rows_per_second"]:
            peer = seed["rows_per_second"]["peer"]
            lines.append(f"seed: ours / REaLTabFormer {seed['rows_per_second']['ours'] / peer:.2f}x (target 2.5x)")
            if half:
                lines.append(f"seed half: its rows/s / REaLTabFormer's on the teacher "
                             f"{half['rows_per_second']['ours'] / peer:.2f}x (target 5x)")
    return lines
