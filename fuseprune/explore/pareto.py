"""The Pareto frontier of measured candidates, and the choice of the fastest one that keeps enough quality.

A candidate is on the frontier of two measures when no other candidate is at
least as good in both and better in one. Quality is always maximised; rows/s
is maximised, bytes on disk minimised. Two candidates with equal measures are
both on the frontier (neither dominates the other).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Point:
    """One candidate's measures: ``quality`` and ``speed`` as ratios to the teacher's, ``size`` in bytes."""

    name: str
    quality: float
    speed: float
    size: int


def frontier(points: Sequence[tuple[float, float]], maximize: tuple[bool, bool] = (True, True)) -> list[int]:
    """Indices of the points no other point dominates, in the order given.

    Args:
        points: (x, y) of each candidate.
        maximize: For x and y, whether larger is better.
    """
    signs = [1.0 if up else -1.0 for up in maximize]
    oriented = [(x * signs[0], y * signs[1]) for x, y in points]

    def dominated(i: int) -> bool:
        x, y = oriented[i]
        return any(a >= x and b >= y and (a > x or b > y) for a, b in oriented)

    return [i for i in range(len(points)) if not dominated(i)]


def speed_frontier(points: Sequence[Point]) -> list[Point]:
    """The candidates on the frontier of quality (higher) against rows/s (higher)."""
    return [points[i] for i in frontier([(p.quality, p.speed) for p in points])]


def size_frontier(points: Sequence[Point]) -> list[Point]:
    """The candidates on the frontier of quality (higher) against bytes on disk (lower)."""
    return [points[i] for i in frontier([(p.quality, float(p.size)) for p in points], (True, False))]


def choose(points: Sequence[Point], target: float) -> Point | None:
    """The fastest candidate whose quality ratio is at least ``target``; None if none is.

    Ties in speed go to the smaller candidate, then to the name (so the choice never depends on order).
    """
    passing = [p for p in points if p.quality >= target]
    if not passing:
        return None
    return min(passing, key=lambda p: (-p.speed, p.size, p.name))


def points_of(records: Mapping[str, Mapping[str, Any]], teacher: str = "teacher") -> list[Point]:
    """Every candidate record but the ``teacher``'s as a :class:`Point`: quality and rows/s as ratios to the teacher.

    The speed ratio is the candidate's rows/s over the teacher's timed in the same run
    (``teacher_rows_per_second`` of the candidate's own record).
    """
    base = records[teacher]
    return [Point(name, r["quality"] / base["quality"], r["rows_per_second"] / r["teacher_rows_per_second"],
                  int(r["bytes_on_disk"])) for name, r in records.items() if name != teacher]
