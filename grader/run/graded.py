"""A graded run's folder read back: its ``results.jsonl`` as the class's results, and the
class's tables and statistics computed from them (``grader.load``, ``grader report``).

``results.jsonl`` holds every submission (``grade``'s and ``grader merge``'s alike);
the class is its records as the gradebook's rows: the same rows, in the same order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from grader.errors import GraderError
from grader.grading.results import StudentResult
from grader.intake.submission import RESUBMISSION
from grader.render.gradebook import status_text
from grader.run.batch import SUPERSEDED
from grader.run.merge import read_results
from grader.run.prepare import KEPT_WARNINGS as KEPT
from grader.solver.key import AnswerKey
from grader.stats.attention import students_to_talk_to
from grader.stats.items import (
    ScoreStatistics,
    diagnosis_table,
    item_analysis,
    score_histogram,
    score_statistics,
)
from grader.stats.table import ClassTable, gradebook_frame, items_frame, table_from_results

RESULTS = "results.jsonl"


@dataclass(frozen=True, eq=False)
class ClassResults:
    """A graded class: the result of each gradebook row, and pandas tables of them, each
    made the first time it is asked for."""

    results: tuple[StudentResult, ...]
    """One per gradebook row, in its order: one per student, but two submissions that
    claim one id have a row each, and of a student's repeated LMS uploads the one that
    counts."""
    answer_ids: tuple[str, ...]
    points: dict[str, float]
    max_score: float

    @cached_property
    def gradebook(self) -> pd.DataFrame:
        """One row per gradebook row (index ``student_id``), as ``gradebook.csv``: points
        per answer id, ``total``, ``max_total``, ``percent``, ``status``."""
        statuses = [
            status_text(replace(r, warnings=tuple(w for w in r.warnings if w.startswith(KEPT))))
            for r in self.results
        ]
        return gradebook_frame(self.results, self.answer_ids, statuses)

    @cached_property
    def items(self) -> pd.DataFrame:
        """One row per student and answer: ``student_id``, ``answer_id``, ``score``,
        ``max_score``, ``status``, ``outcome``, ``diagnoses``, ``carried_forward_from``."""
        return items_frame(self.results)

    @cached_property
    def table(self) -> ClassTable:
        return table_from_results(self.results, self.points, self.max_score)

    @cached_property
    def item_analysis(self) -> pd.DataFrame:
        """Per answer id: points, mean score, shares of each outcome, discrimination,
        the commonest diagnoses (as ``items.csv``)."""
        return item_analysis(self.table)

    @cached_property
    def diagnoses(self) -> pd.DataFrame:
        """Per answer id and diagnosis code: how many, and which students."""
        return diagnosis_table(self.table)

    @cached_property
    def statistics(self) -> ScoreStatistics:
        return score_statistics(self.table)

    @cached_property
    def histogram(self) -> pd.DataFrame:
        return score_histogram(self.table)

    @cached_property
    def students_to_talk_to(self) -> pd.DataFrame:
        """Who needs a word and why (``grader.stats.attention``)."""
        return students_to_talk_to(
            self.table,
            errors=[r.error or "" if r.status == "error" else None for r in self.results],
            warnings=[r.warnings for r in self.results],
        )

    def __repr__(self) -> str:
        return (
            f"<ClassResults: {len(self.results)} students, {len(self.answer_ids)} answers, "
            f"{self.max_score:g} points>"
        )


def class_results(
    records: Iterable[StudentResult], *, points: dict[str, float] | None = None
) -> ClassResults:
    """The gradebook's rows from the records of ``results.jsonl``, in the order written:
    every record is a row, but a student's repeated uploads in an LMS download (records
    marked ``resubmission``) are one, at the place of the first, holding the upload that
    counts. ``points``: each answer id's points (by default, those the first record's
    items record)."""
    rows: list[StudentResult] = []
    counted: list[bool] = []
    resubmitted: dict[str, int] = {}
    for result in records:
        superseded = any(w.startswith(SUPERSEDED) for w in result.warnings)
        if any(w.startswith(f"{RESUBMISSION}:") for w in result.warnings):
            row = resubmitted.get(result.student_id)
            if row is None:
                resubmitted[result.student_id] = len(rows)
            elif not superseded or not counted[row]:
                rows[row], counted[row] = result, not superseded
            if row is not None:
                continue
        rows.append(result)
        counted.append(not superseded)
    if points is None:
        points = {item.id: item.max_score for item in rows[0].items} if rows else {}
    max_score = rows[0].max_score if rows else sum(points.values())
    return ClassResults(
        results=tuple(rows), answer_ids=tuple(points), points=points, max_score=max_score
    )


def load_graded(grades_dir: Path, key: AnswerKey | None = None) -> ClassResults:
    """The class graded into ``grades_dir`` (its ``results.jsonl``). With ``key``, every
    record is first checked to have been graded with that rubric (as ``grader merge``
    checks them), and the points come from the rubric."""
    path = grades_dir / RESULTS if grades_dir.is_dir() else grades_dir
    if not path.is_file():
        raise GraderError(f"{path}: no such file (expected the results.jsonl of a graded run)")
    if key is None:
        return class_results(_records(path))
    for _ in read_results([path], key):  # every record checked first, as merge checks them
        pass
    points = {answer.id: answer.points for answer in key.rubric.answers}
    return class_results(_records(path), points=points)


def _records(path: Path) -> Iterator[StudentResult]:
    try:
        file = path.open(encoding="utf-8")
    except OSError as error:
        raise GraderError(f"{path}: cannot be read: {error.strerror or error}") from None
    with file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                data: Any = json.loads(line)
                yield StudentResult.from_json(data)
            except (ValueError, TypeError, KeyError, AttributeError) as error:
                raise GraderError(
                    f"{path} line {number}: not a results.jsonl record ({error})"
                ) from None
