"""A class's results as pandas tables: the wide form the statistics are computed on, and
the long form a notebook reads (one row per student and answer).

``ClassTable`` is what every statistic starts from: one row per counted student (the
gradebook's students), one column per answer id, holding the points earned and the
*outcome* of each answer. An outcome is an item's status with carried-forward credit
told apart: ``right`` (status ``correct``), ``ecf`` (right given the student's own
earlier wrong answers: status ``partial`` with the diagnosis ``ecf``), ``partial``,
``wrong`` (``incorrect``), ``missing``, ``unreadable`` (also every answer of a file that
could not be read).

A batch fills a ``TableBuilder`` row by row (a few hundred bytes per student, kept in
arrays, not objects); a notebook builds the same table from results
(``table_from_results``).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from grader.grading.results import StudentResult

OUTCOMES = ("right", "partial", "ecf", "wrong", "missing", "unreadable")
"""Every outcome of an answer, in the order tables and bars show them."""

_CODE = {name: code for code, name in enumerate(OUTCOMES)}
_FROM_STATUS = {
    "correct": "right",
    "partial": "partial",
    "incorrect": "wrong",
    "missing": "missing",
    "unreadable": "unreadable",
}


def outcome(status: str, diagnoses: Sequence[str]) -> str:
    """An item's outcome (see the module's docstring) from its status and diagnoses."""
    if status == "partial" and "ecf" in diagnoses:
        return "ecf"
    return _FROM_STATUS[status]


@dataclass(frozen=True)
class ClassTable:
    """A class's results in the wide form: rows are the gradebook's rows (indexed by
    student id, which two rows share when two submissions claim one id), columns answer
    ids (in rubric order)."""

    scores: pd.DataFrame
    """Points earned, float."""
    outcomes: pd.DataFrame
    """Each answer's outcome, a categorical of ``OUTCOMES``."""
    points: pd.Series
    """The points each answer id is worth, by answer id."""
    graded: pd.Series
    """By student: was the submission read (False: the whole file was unreadable)?"""
    diagnoses: pd.DataFrame
    """One row per diagnosis given: columns ``row`` (the student's row, from 0),
    ``student_id``, ``answer_id``, ``code``."""
    max_score: float

    @property
    def totals(self) -> pd.Series:
        """Each student's total points."""
        return self.scores.sum(axis=1)


class TableBuilder:
    """Collects a class's rows one student at a time, compactly, into a ``ClassTable``."""

    def __init__(self, points: Mapping[str, float], max_score: float) -> None:
        self._answer_ids = list(points)
        self._points = dict(points)
        self._max_score = max_score
        self._students: list[str] = []
        self._graded = bytearray()
        self._scores = array("d")
        self._outcomes = bytearray()
        self._diagnosed: list[tuple[int, str, str]] = []

    def add(
        self,
        student_id: str,
        graded: bool,
        scores: Mapping[str, float],
        statuses: Mapping[str, str],
        diagnoses: Mapping[str, Sequence[str]],
    ) -> None:
        """One student's row: points, statuses and diagnoses by answer id."""
        row = len(self._students)
        self._students.append(student_id)
        self._graded.append(graded)
        for answer_id in self._answer_ids:
            codes = diagnoses.get(answer_id, ())
            self._scores.append(scores.get(answer_id, 0.0))
            self._outcomes.append(_CODE[outcome(statuses.get(answer_id, "missing"), codes)])
            for code in codes:
                self._diagnosed.append((row, answer_id, code))

    def table(self) -> ClassTable:
        students = pd.Index(self._students, name="student_id", dtype=object)
        shape = (len(self._students), len(self._answer_ids))
        columns = pd.Index(self._answer_ids, name="answer_id", dtype=object)
        scores = np.frombuffer(self._scores, dtype=np.float64).reshape(shape)
        codes = np.frombuffer(bytes(self._outcomes), dtype=np.int8).reshape(shape)
        outcomes = pd.DataFrame(
            {
                answer_id: pd.Categorical.from_codes(
                    codes[:, column], categories=pd.Index(OUTCOMES)
                )
                for column, answer_id in enumerate(self._answer_ids)
            },
            index=students,
        )
        outcomes.columns = columns
        diagnosed = pd.DataFrame(
            {
                "row": pd.Series([row for row, _, _ in self._diagnosed], dtype="int64"),
                "student_id": pd.Series(
                    [self._students[row] for row, _, _ in self._diagnosed], dtype=object
                ),
                "answer_id": pd.Series([a for _, a, _ in self._diagnosed], dtype=object),
                "code": pd.Series([c for _, _, c in self._diagnosed], dtype=object),
            }
        )
        return ClassTable(
            scores=pd.DataFrame(scores.copy(), index=students, columns=columns),
            outcomes=outcomes,
            points=pd.Series(self._points, name="points", dtype=float).rename_axis("answer_id"),
            graded=pd.Series(np.frombuffer(bytes(self._graded), dtype=bool), index=students),
            diagnoses=diagnosed,
            max_score=self._max_score,
        )


def table_from_results(
    results: Iterable[StudentResult], points: Mapping[str, float], max_score: float
) -> ClassTable:
    """The wide table of the gradebook's rows' results."""
    builder = TableBuilder(points, max_score)
    for result in results:
        builder.add(
            result.student_id,
            result.status == "graded",
            {item.id: item.score for item in result.items},
            {item.id: item.status for item in result.items},
            {item.id: item.diagnoses for item in result.items if item.diagnoses},
        )
    return builder.table()


ITEM_COLUMNS = (
    "student_id",
    "answer_id",
    "score",
    "max_score",
    "status",
    "outcome",
    "diagnoses",
    "carried_forward_from",
)
"""The columns of ``items_frame``."""


def items_frame(results: Iterable[StudentResult]) -> pd.DataFrame:
    """One row per student and answer: points, status, outcome, diagnoses (a tuple of
    codes) and the earlier answer ids carried-forward credit came from (a tuple)."""
    rows = [
        (
            result.student_id,
            item.id,
            item.score,
            item.max_score,
            item.status,
            outcome(item.status, item.diagnoses),
            tuple(item.diagnoses),
            tuple(item.carried_forward_from),
        )
        for result in results
        for item in result.items
    ]
    frame = pd.DataFrame(rows, columns=list(ITEM_COLUMNS))
    frame["outcome"] = pd.Categorical(frame["outcome"], categories=OUTCOMES)
    return frame


def gradebook_frame(
    results: Sequence[StudentResult], answer_ids: Sequence[str], statuses: Sequence[str]
) -> pd.DataFrame:
    """One row per result, indexed by student id: the points of each answer id, then
    ``total``, ``max_total``, ``percent`` and ``status`` (``statuses``, one per result),
    as ``gradebook.csv`` has them."""
    records = []
    for result, status in zip(results, statuses, strict=True):
        scores = {item.id: item.score for item in result.items}
        records.append(
            {
                "student_id": result.student_id,
                **{answer_id: scores.get(answer_id, 0.0) for answer_id in answer_ids},
                "total": result.score,
                "max_total": result.max_score,
                "percent": result.percent,
                "status": status,
            }
        )
    columns = ["student_id", *answer_ids, "total", "max_total", "percent", "status"]
    return pd.DataFrame.from_records(records, columns=columns).set_index("student_id")
