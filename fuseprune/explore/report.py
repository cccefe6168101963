"""The report of a compression search: ``report.md``, ``candidates.jsonl`` and the two frontier plots.

Every candidate is listed with its quality, its quality ratio to the teacher,
its rows/s beside the teacher's in the same run (and their ratio), its bytes
on disk and non-zero parameters, whether healing ran, and whether it is on
either Pareto frontier. A candidate that saves bytes or parameters but no time
(dense kernels multiply zeros too) is said to. The chosen model is the fastest
at or above the target; if none reaches it, the report says so and names the
closest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fuseprune.explore.config import ExploreConfig
from fuseprune.explore.grid import TEACHER
from fuseprune.explore.pareto import Point, points_of, size_frontier, speed_frontier
from fuseprune.explore.plots import frontier_plot, mix_of
from fuseprune.outputs import REPORT, output_folder

REPORT_FOLDER = "report"
#: A speed-up below this counts as "no faster" (timing noise of alternating runs).
NO_FASTER = 1.05
#: Faster candidates below the target named in the choice (the table lists them all).
MAX_FASTER = 5
Record = dict[str, Any]


def rows_of(records: dict[str, Record]) -> list[Record]:
    """One row per candidate (teacher first): its record, the ratios to the teacher and its frontier flags."""
    teacher = records[TEACHER]
    found = points_of(records, TEACHER)
    on_speed = {p.name for p in speed_frontier(found)}
    on_size = {p.name for p in size_frontier(found)}
    rows = []
    for name, record in sorted(records.items(), key=lambda item: (item[0] != TEACHER, item[0])):
        row = dict(record)
        row["quality_ratio"] = record["quality"] / teacher["quality"]
        row["speedup"] = record["rows_per_second"] / record["teacher_rows_per_second"]
        row["size_ratio"] = record["bytes_on_disk"] / teacher["bytes_on_disk"]
        row["on_speed_frontier"] = name in on_speed
        row["on_size_frontier"] = name in on_size
        rows.append(row)
    return rows


def write_report(folder: Path, config: ExploreConfig, records: dict[str, Record], chosen: str | None,
                 best: Path | None) -> Path:
    """Write ``folder/report`` (replacing the previous one); return the path of ``report.md``."""
    rows = rows_of(records)
    found = _points(rows)
    teacher = records[TEACHER]
    with output_folder(folder / REPORT_FOLDER, REPORT) as tmp:
        with open(tmp / "candidates.jsonl", "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, sort_keys=True, allow_nan=False) + "\n")
        common = {"target": config.target_quality, "teacher_bytes": teacher["bytes_on_disk"], "chosen": chosen}
        frontier_plot(found, speed_frontier(found), tmp / "quality_vs_speed.png", size=False, **common)
        frontier_plot(found, size_frontier(found), tmp / "quality_vs_bytes.png", size=True, **common)
        (tmp / "report.md").write_text(markdown(config, rows, chosen, best), encoding="utf-8")
    return folder / REPORT_FOLDER / "report.md"


def _points(rows: list[Record]) -> list[Point]:
    return [Point(r["candidate"], r["quality_ratio"], r["speedup"], r["bytes_on_disk"]) for r in rows
            if r["candidate"] != TEACHER]


def markdown(config: ExploreConfig, rows: list[Record], chosen: str | None, best: Path | None) -> str:
    """The text of ``report.md``."""
    teacher = rows[0]
    lines = [
        "# Compression search", "",
        f"Teacher `{config.model}` on `{config.data}`: SDMetrics quality {teacher['quality']:.4f}"
        + (f" (real rows: {teacher['ceiling']:.4f})" if teacher.get("ceiling") is not None else "")
        + f", {teacher['rows_per_second']:,.0f} rows/s at batch {teacher['speed_batch_size']}"
          f"{_threads(rows)}, "
          f"{teacher['bytes_on_disk']:,} bytes on disk.",
        f"Methods: {', '.join(config.methods)}; target: {config.target_quality:g} of the teacher's quality "
        f"(at least {config.target_quality * teacher['quality']:.4f}); healing: at most {config.heal_epochs} "
        f"epochs / {config.heal_minutes:g} min of distillation per trainable candidate.", "",
        "## Choice", "", *_choice(config, rows, chosen, best), "",
        "## Every candidate", "",
        "Quality is the mean over sampling seeds "
        f"({', '.join(map(str, config.quality_seeds))}); rows/s is the median of {config.speed_repeats} runs of "
        f"{config.speed_rows or teacher['speed_batch_size']} rows, the candidate's and the teacher's alternating "
        "in the same process at the same batch, so *speed-up* is their ratio in one run. Frontier: S = quality vs "
        "speed-up, B = quality vs bytes.", "",
        "| candidate | healed | quality | ratio | speed-up | rows/s | teacher rows/s | bytes | size ratio "
        "| non-zero params | frontier | note |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [_row(row, rows[0]) for row in rows[1:]]
    lines += ["", "![quality against speed-up](quality_vs_speed.png)", "",
              "![quality against bytes on disk](quality_vs_bytes.png)", ""]
    return "\n".join(lines)


def _threads(rows: list[Record]) -> str:
    """`` on 2 threads`` (``threads`` 1, 2 when a resumed folder mixes them; nothing in folders that predate it)."""
    found = sorted({row["threads"] for row in rows if row.get("threads")})
    if not found:
        return ""
    return f" on {', '.join(map(str, found))} thread{'s' if found != [1] else ''}" + (
        " (mixed: speed-ups are measured per candidate)" if len(found) > 1 else "")


def _choice(config: ExploreConfig, rows: list[Record], chosen: str | None, best: Path | None) -> list[str]:
    candidates = rows[1:]
    if chosen is None:
        if not candidates:
            return ["No candidate was measured."]
        closest = max(candidates, key=lambda r: r["quality_ratio"])
        return [f"**No candidate reached {config.target_quality:g} of the teacher's quality.** The closest was "
                f"`{closest['candidate']}` at {closest['quality_ratio']:.4f} ({closest['speedup']:.2f}x the "
                "teacher's rows/s); no model was saved."]
    row = next(r for r in candidates if r["candidate"] == chosen)
    text = [f"The fastest candidate at or above the target: **`{chosen}`**, quality ratio "
            f"{row['quality_ratio']:.4f}, **{row['speedup']:.2f}x** the teacher's rows/s, "
            f"{row['size_ratio']:.2f} of its bytes on disk; saved to `{best}`." if best else
            f"The fastest candidate at or above the target: **`{chosen}`** (its folder was not kept)."]
    depth = [r for r in candidates if mix_of(r["candidate"]) == "depth"]
    depth_only = [r for r in depth if r["quality_ratio"] >= config.target_quality]
    if depth_only and mix_of(chosen) != "depth":
        fastest = max(depth_only, key=lambda r: r["speedup"])
        text.append(f"The fastest depth-only model at the target, `{fastest['candidate']}`, reaches "
                    f"{fastest['speedup']:.2f}x; the chosen one is {row['speedup'] / fastest['speedup']:.2f}x "
                    "as fast as that.")
    elif depth:
        fastest = max(depth, key=lambda r: r["speedup"])
        text.append(f"No depth-only model reached the target; the fastest, `{fastest['candidate']}`, reached "
                    f"{fastest['speedup']:.2f}x at quality ratio {fastest['quality_ratio']:.4f}.")
    return text + _faster_but_short(config, candidates, row)


def _faster_but_short(config: ExploreConfig, candidates: list[Record], chosen: Record) -> list[str]:
    """Why the choice is not faster: each faster candidate, fastest first, with the quality it lost."""
    faster = sorted((r for r in candidates if r["speedup"] > chosen["speedup"]), key=lambda r: -r["speedup"])
    if not faster:
        return ["", "No candidate of this search was faster, at any quality: a faster model needs other methods or "
                    "stronger settings (more layers removed, lower ranks), which would have to keep the target."]
    shown = ", ".join(f"`{r['candidate']}` ({r['speedup']:.2f}x, quality ratio {r['quality_ratio']:.4f})"
                      for r in faster[:MAX_FASTER])
    more = f" and {len(faster) - MAX_FASTER} more" if len(faster) > MAX_FASTER else ""
    return ["", f"Faster candidates fell below {config.target_quality:g} of the teacher's quality: {shown}{more}."]


def _row(row: Record, teacher: Record) -> str:
    frontier = "".join(flag for flag, on in (("S", row["on_speed_frontier"]), ("B", row["on_size_frontier"])) if on)
    notes = []
    if row["speedup"] < NO_FASTER and (row["size_ratio"] < 0.95 or
                                       row["nonzero_parameters"] < 0.95 * teacher["nonzero_parameters"]):
        notes.append("saves bytes or parameters, not time")
    heal = row.get("heal") or {}
    if heal.get("note") and heal.get("note") != "no trainable step":
        notes.append(str(heal["note"]).replace("|", "/"))
    healed = f"{heal.get('epochs', 0)} ep" if row["healed"] else "no"
    return (f"| `{row['candidate']}` | {healed} | {row['quality']:.4f} | {row['quality_ratio']:.4f} | "
            f"{row['speedup']:.2f}x | {row['rows_per_second']:,.0f} | {row['teacher_rows_per_second']:,.0f} | "
            f"{row['bytes_on_disk']:,} | {row['size_ratio']:.2f} | {row['nonzero_parameters']:,} | {frontier} | "
            f"{'; '.join(notes)} |")
