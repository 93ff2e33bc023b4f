"""A graded run's folder read back: its ``results.jsonl`` as the class's results, and the
class's tables and statistics computed from them (``grader.load``, ``grader report``).

``results.jsonl`` holds every submission (``grade``'s and ``grader merge``'s alike, in
the order they were read); a student who submitted more than once counts with the last,
at the place of the first, as in the gradebook.
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
from grader.run.merge import read_results
from grader.run.prepare import DUPLICATE, KEPT_WARNINGS
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
    """A graded class: one result per student (the one that counts), and pandas tables
    of it, each made the first time it is asked for."""

    results: tuple[StudentResult, ...]
    """One per student id, in gradebook order."""
    duplicates: dict[str, tuple[str, ...]]
    """Student ids submitted more than once: their sources in the order read (the last
    counts)."""
    answer_ids: tuple[str, ...]
    points: dict[str, float]
    max_score: float

    @cached_property
    def gradebook(self) -> pd.DataFrame:
        """One row per student (index ``student_id``), as ``gradebook.csv``: points per
        answer id, ``total``, ``max_total``, ``percent``, ``status``."""
        return gradebook_frame(self.results, self.answer_ids, KEPT_WARNINGS)

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
        errors = {r.student_id: r.error or "" for r in self.results if r.status == "error"}
        return students_to_talk_to(self.table, errors=errors, duplicates=self.duplicates)

    def __repr__(self) -> str:
        return (
            f"<ClassResults: {len(self.results)} students, {len(self.answer_ids)} answers, "
            f"{self.max_score:g} points>"
        )


def class_results(
    records: Iterable[StudentResult],
    *,
    points: dict[str, float] | None = None,
    mark_duplicates: bool = False,
) -> ClassResults:
    """The class from its results in the order read: the last submission of each id
    counts, at the place of its first. ``points``: each answer id's points (by default,
    those the first result's items record). ``mark_duplicates``: give a later submission
    the warning the batch gives it (for records read without it, ``read_results``)."""
    counted: dict[str, StudentResult] = {}
    sources: dict[str, list[str]] = {}
    for result in records:
        earlier = counted.get(result.student_id)
        if earlier is not None and mark_duplicates:
            warning = (
                f"{DUPLICATE}: {result.student_id} also submitted {earlier.source}; "
                f"this submission ({result.source}) is the one graded"
            )
            result = replace(result, warnings=(*result.warnings, warning))
        counted[result.student_id] = result
        sources.setdefault(result.student_id, []).append(result.source)
    results = tuple(counted.values())
    if points is None:
        points = {item.id: item.max_score for item in results[0].items} if results else {}
    max_score = results[0].max_score if results else sum(points.values())
    return ClassResults(
        results=results,
        duplicates={s: tuple(found) for s, found in sources.items() if len(found) > 1},
        answer_ids=tuple(points),
        points=points,
        max_score=max_score,
    )


def load_graded(grades_dir: Path, key: AnswerKey | None = None) -> ClassResults:
    """The class graded into ``grades_dir`` (its ``results.jsonl``). With ``key``, every
    record is checked to have been graded with that rubric (as ``grader merge`` checks)
    and takes its titles; without, the records are read as they are."""
    path = grades_dir / RESULTS if grades_dir.is_dir() else grades_dir
    if not path.is_file():
        raise GraderError(f"{path}: no such file (expected the results.jsonl of a graded run)")
    if key is not None:
        points = {answer.id: answer.points for answer in key.rubric.answers}
        return class_results(read_results([path], key), points=points, mark_duplicates=True)
    return class_results(_records(path))


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
