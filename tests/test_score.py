"""The one scoring and status rule (``grader.grading.score``)."""

from __future__ import annotations

import random
from fractions import Fraction

from grader.grading.score import item_score, item_status


def test_per_entry_score_is_points_times_the_mean_share() -> None:
    rng = random.Random(11)
    for _ in range(2000):
        size = rng.randint(1, 12)
        credit = [rng.choice([0.0, 1.0, 0.5, 0.25, rng.random()]) for _ in range(size)]
        points = rng.choice([1.0, 2.5, 3.0, 7.0, rng.uniform(0.1, 20)])
        exact = Fraction(points) * sum(map(Fraction, credit)) / size
        assert abs(item_score(points, credit, "per_entry") - float(exact)) <= 5e-7


def test_all_or_nothing_score_is_points_times_the_smallest_share() -> None:
    assert item_score(4.0, [1.0, 1.0, 1.0], "all_or_nothing") == 4.0
    assert item_score(4.0, [1.0, 0.0, 1.0], "all_or_nothing") == 0.0
    assert item_score(4.0, [1.0, 0.5, 1.0], "all_or_nothing") == 2.0


def test_scores_are_rounded_to_six_decimals() -> None:
    assert item_score(1.0, [1.0, 0.0, 0.0], "per_entry") == 0.333333
    assert item_score(2.0, [1.0, 1.0, 0.0], "per_entry") == 1.333333


def test_an_answer_with_no_entries_has_nothing_wrong() -> None:
    assert item_score(3.0, [], "per_entry") == 3.0
    assert item_status([], []) == "correct"


def test_status_correct_only_when_every_entry_is_accepted_as_written() -> None:
    assert item_status([True, True], [1.0, 1.0]) == "correct"
    # full credit for a carried-forward error is still not a right answer
    assert item_status([False, True], [1.0, 1.0]) == "partial"
    assert item_status([False, True], [0.0, 1.0]) == "partial"
    assert item_status([False, False], [0.0, 0.0]) == "incorrect"
    assert item_status([False], [0.3]) == "partial"
