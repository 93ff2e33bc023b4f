"""The whole pipeline on generated hostile inputs (files to outputs): the small version of
``benchmarks/fuzz_pipeline.py``, whose 100,000-input run README.md reports."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from grader import AnswerKey
from tests.hostile import grade_and_check, hostile_inputs, place

INPUTS = 300
"""Hostile inputs per run of this test (the benchmark runs 100,000)."""
BUDGET_SECONDS = 60.0
"""The stated budget for grading them all (some 2 s on the reference machine)."""


@pytest.mark.parametrize("jobs", [1, 2])
def test_hostile_inputs_lose_no_row_and_raise_nothing(
    tmp_path: Path, hw_key: AnswerKey, jobs: int
) -> None:
    """Every input has its record, every record its gradebook row (but an LMS upload a
    later one replaced) and every row its feedback file; nothing is raised; no submission
    takes longer than the per-submission limit; the whole run stays within its budget."""
    rng = random.Random(2026 + jobs)
    folder = tmp_path / "in"
    folder.mkdir()
    answer_ids = [answer.id for answer in hw_key.rubric.answers]
    placed = [
        path for each in hostile_inputs(rng, INPUTS, answer_ids) if (path := place(each, folder))
    ]
    assert len(placed) > INPUTS * 0.9
    start = time.perf_counter()
    checked = grade_and_check(placed, folder, tmp_path / "out", hw_key, jobs=jobs)
    assert time.perf_counter() - start < BUDGET_SECONDS
    assert checked.lost == ()
    assert checked.rows >= len(placed) * 0.9
    assert checked.slowest_seconds < 10
