"""The shape of a step record in ``results.jsonl``, checked on every read.

A results file is edited, merged or damaged by hand more often than one
thinks; a record of the wrong shape, a step beyond the teacher's depth or a
second, different copy of a step would silently change a report's winners.
Every record is checked against the grid it belongs to: required keys and
their types, the cell is one of the grid's, the step lies within the
teacher's depth and agrees with the layers it lists, and the measures are
numbers. Exact repeats of a step (equal apart from timings) are dropped with
a warning; different repeats are refused. Every refusal is one line naming the
file and line.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from fuseprune.compare.grid import GridConfig
from fuseprune.errors import DataError

log = logging.getLogger(__name__)
#: Record fields that depend on the machine and its load (left out when two records are compared).
VOLATILE = ("rows_per_second", "rank_seconds", "eval_seconds", "distill_seconds")
MEASURES = ("quality", "column_shapes", "column_pair_trends", "diagnostic", "holdout_nll", "rows_per_second")
COUNTS = ("parameters", "bytes_on_disk")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool)
                             and math.isfinite(value))


def _ints(value: Any) -> bool:
    return isinstance(value, list) and all(_is_int(v) for v in value)


def _numbers(value: Any) -> bool:
    return isinstance(value, list) and all(_is_number(v) for v in value)


#: key -> (check, what it must be)
FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "dataset": (lambda v: isinstance(v, str), "a string"),
    "seed": (_is_int, "an integer"),
    "strategy": (lambda v: isinstance(v, str), "a string"),
    "step": (_is_int, "an integer"),
    "layers": (_is_int, "an integer"),
    "removed": (_ints, "a list of integers"),
    "kept": (_ints, "a list of integers"),
    "keep": (lambda v: v is None or _numbers(v), "null or a list of numbers"),
    "next": (lambda v: v is None or _is_int(v), "null or an integer"),
    "rank_seconds": (_is_number, "a number"),
    "state": (lambda v: isinstance(v, dict), "an object"),
}


def check_record(record: Any, config: GridConfig, depth: int) -> str | None:
    """What is wrong with ``record`` as a step of the grid ``config`` (teacher of ``depth`` layers), or None."""
    if not isinstance(record, dict):
        return f"a record must be a JSON object; got {type(record).__name__}"
    missing = [key for key in FIELDS if key not in record]
    if missing:
        return f"the record lacks {', '.join(missing)}"
    for key, (ok, what) in FIELDS.items():
        if not ok(record[key]):
            return f"`{key}` must be {what}; got {json.dumps(record[key])[:40]}"
    if (record["dataset"], record["seed"], record["strategy"]) not in _cells(config):
        return (f"cell ({record['dataset']}, {record['seed']}, {record['strategy']}) is not part of the grid in "
                "grid.json")
    return _check_step(record, depth) or _check_state(record["state"], record["step"], depth)


def _cells(config: GridConfig) -> set[tuple[str, int, str]]:
    return {(c.dataset, c.seed, c.strategy) for c in config.cells()}


def _check_step(record: dict[str, Any], depth: int) -> str | None:
    step, removed, kept = record["step"], record["removed"], record["kept"]
    if not 0 <= step < depth:
        return f"`step` must be between 0 and {depth - 1} for the grid's {depth}-layer teachers; got {step}"
    if len(removed) != step or len(set(removed)) != step or not all(0 <= r < depth for r in removed):
        return f"`removed` must list {step} different layers between 0 and {depth - 1}; got {removed}"
    if kept != [layer for layer in range(depth) if layer not in removed] or record["layers"] != len(kept):
        return "`kept` and `layers` must be the layers not removed"
    last = len(kept) == 1
    if (record["keep"] is None) != last or (record["next"] is None) != last:
        return "`keep` and `next` must be null exactly when one layer is left"
    if record["keep"] is not None and len(record["keep"]) != len(kept):
        return f"`keep` must hold one score per kept layer ({len(kept)}); got {len(record['keep'])}"
    if record["next"] is not None and record["next"] not in kept:
        return f"`next` must be one of the kept layers; got {record['next']}"
    return None


def _check_state(state: dict[str, Any], step: int, depth: int) -> str | None:
    for key in MEASURES:
        if key in state and not _is_number(state[key]):
            return f"state `{key}` must be a number or null; got {json.dumps(state[key])[:40]}"
    missing = [key for key in ("quality", "holdout_nll", "diagnostic", "parameters") if key not in state]
    if missing:
        return f"state lacks {', '.join(missing)}"
    for key in COUNTS:
        if key in state and not _is_int(state[key]):
            return f"state `{key}` must be an integer; got {json.dumps(state[key])[:40]}"
    if step == 0 and not (_numbers(state.get("oracle_impact")) and len(state["oracle_impact"]) == depth):
        return f"the state of step 0 must hold `oracle_impact`, one number per layer ({depth})"
    distilled = state.get("distilled")
    if distilled is not None and not (isinstance(distilled, dict) and
                                      all(_is_number(distilled.get(k)) for k in MEASURES)):
        return "state `distilled` must be an object of numbers"
    return None


def checked(numbered: Iterable[tuple[int, dict[str, Any]]], path: Path, config: GridConfig,
            depth: int) -> list[dict[str, Any]]:
    """The records of ``path`` (with their line numbers), checked; exact repeats of a step dropped.

    Raises:
        DataError: A record is malformed, or two different records claim the same step (names the lines).
    """
    seen: dict[tuple[Any, ...], tuple[int, dict[str, Any]]] = {}
    kept: list[dict[str, Any]] = []
    for number, record in numbered:
        problem = check_record(record, config, depth)
        if problem:
            raise DataError(f"{str(path)!r} line {number}: {problem}; remove or repair the line.")
        key = (record["dataset"], record["seed"], record["strategy"], record["step"])
        if key in seen:
            first, earlier = seen[key]
            if strip_volatile(earlier) != strip_volatile(record):
                raise DataError(f"{str(path)!r} lines {first} and {number} hold different results for step "
                                f"{key[3]} of cell {key[0]}/{key[1]}/{key[2]}; remove the wrong one.")
            log.warning("%s line %d repeats line %d (step %d of %s/%s/%s); using it once", path, number, first,
                        key[3], *key[:3])
            continue
        seen[key] = (number, record)
        kept.append(record)
    return kept


def strip_volatile(value: Any) -> Any:
    """``value`` without the machine-dependent fields, at any depth."""
    if isinstance(value, dict):
        return {k: strip_volatile(v) for k, v in value.items() if k not in VOLATILE}
    return value
