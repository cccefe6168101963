"""The Pareto frontier and the choice, on hand-made points whose answers are worked out by hand."""

from __future__ import annotations

from fuseprune.explore.pareto import Point, choose, frontier, points_of, size_frontier, speed_frontier

#: quality ratio, speed-up, bytes
POINTS = [
    Point("a", 1.00, 1.0, 100),  # the most faithful
    Point("b", 0.99, 2.0, 60),   # faster and smaller than a, slightly worse
    Point("c", 0.98, 1.5, 80),   # dominated by b in speed (worse quality, slower) and in size (larger)
    Point("d", 0.90, 4.0, 70),   # the fastest
    Point("e", 0.95, 3.0, 30),   # the smallest
]


def test_frontier_keeps_exactly_the_points_nothing_beats_in_both():
    # (x, y) both maximised: (1, 1) is beaten by (2, 2); (2, 2), (3, 0) and (0, 3) beat each other nowhere
    assert frontier([(1.0, 1.0), (2.0, 2.0), (3.0, 0.0), (0.0, 3.0)]) == [1, 2, 3]
    # minimising y: (1, 5) beats (1, 6) (same x, smaller y); (2, 9) has the largest x
    assert frontier([(1.0, 5.0), (1.0, 6.0), (2.0, 9.0)], (True, False)) == [0, 2]


def test_equal_points_are_both_on_the_frontier():
    assert frontier([(1.0, 1.0), (1.0, 1.0), (0.5, 0.5)]) == [0, 1]


def test_speed_frontier_of_the_hand_made_set():
    # a (best quality), b (0.99 at 2x), e (0.95 at 3x), d (fastest); c is beaten by b in both
    assert [p.name for p in speed_frontier(POINTS)] == ["a", "b", "d", "e"]


def test_size_frontier_of_the_hand_made_set():
    # a (best quality), b (0.99, 60 B), e (smallest); c (80 B, 0.98) and d (70 B, 0.90) are beaten by b
    assert [p.name for p in size_frontier(POINTS)] == ["a", "b", "e"]


def test_the_choice_is_the_fastest_at_or_above_the_target():
    assert choose(POINTS, 0.99).name == "b"   # a and b reach 0.99; b is faster
    assert choose(POINTS, 0.95).name == "e"   # a, b, c, e reach 0.95; e is the fastest of them
    assert choose(POINTS, 0.90).name == "d"   # exactly at the target counts
    assert choose(POINTS, 1.0).name == "a"


def test_no_choice_when_nothing_reaches_the_target():
    assert choose(POINTS, 1.0 + 1e-9) is None
    assert choose([], 0.5) is None


def test_a_tie_in_speed_goes_to_the_smaller_then_to_the_name():
    tied = [Point("z", 1.0, 2.0, 50), Point("y", 1.0, 2.0, 60), Point("x", 1.0, 2.0, 50)]
    assert choose(tied, 0.99).name == "x"


def test_points_are_ratios_to_the_teacher_with_speed_from_the_same_run():
    records = {
        "teacher": {"quality": 0.8, "rows_per_second": 1000.0, "teacher_rows_per_second": 1000.0,
                    "bytes_on_disk": 400},
        "small": {"quality": 0.76, "rows_per_second": 1500.0, "teacher_rows_per_second": 500.0,
                  "bytes_on_disk": 100},
    }
    # quality 0.76 / 0.8; speed 1500 / 500 (the teacher timed beside it, not the teacher's own record)
    assert points_of(records) == [Point("small", 0.95, 3.0, 100)]
