"""Grading one answers file: what ``grader check``, ``grader classroom`` and the
Gradescope autograder each do with the file a student hands in.

The file (or a student's folder: its one answers file) is read and graded against the
student's own key (``grade_all``: their variant, for a rubric with variants); one that
cannot be read becomes a result saying why, never an exception, so each platform still
reports something to the student.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from grader.deadline import Overtime, reading_overtime, within
from grader.errors import GraderError, SubmissionError
from grader.grading.results import StudentResult
from grader.intake.readers import answers_file, read_file
from grader.intake.submission import Submission, Unreadable
from grader.limits import DEFAULT_LIMITS, Limits
from grader.run.prepare import grade_all
from grader.solver.key import AnswerKey


@dataclass(frozen=True)
class OneFile:
    """How a platform wants its one file read."""

    one_student: str | None = None
    """What to tell a student whose file holds several students' answers (None: grade
    each of them)."""
    missing: str | None = None
    """What to tell a student whose file is not there (None: the reader's own words)."""
    fallback_id: str | None = None
    """The student id of a file that cannot be read (None: the file's name, without its
    extension)."""


def grade_file(
    path: Path,
    key: AnswerKey,
    *,
    student: str | None = None,
    how: OneFile = OneFile(),
    limits: Limits = DEFAULT_LIMITS,
) -> list[StudentResult]:
    """The results of the answers in ``path`` (a file, or a student's folder), graded as
    ``student`` if given (whose variant; else the id the file gives). Reading the file,
    and grading each submission, are each under ``limits.max_seconds_per_submission``
    (``grader.deadline``): past it, the result is an error saying so."""
    known = [answer.id for answer in key.rubric.answers]
    read: list[Submission | Unreadable]
    fallback = how.fallback_id if how.fallback_id is not None else path.stem
    try:
        if how.missing is not None and not path.exists():
            raise SubmissionError(how.missing)
        with within(limits.max_seconds_per_submission):
            file = answers_file(path, limits=limits) if path.is_dir() else path
            read = read_file(file, known, limits=limits)
        if how.one_student is not None and len(read) != 1:
            raise SubmissionError(
                f"holds {len(read)} students' answers; {how.one_student}", source=str(file)
            )
    except GraderError as error:
        read = [Unreadable(fallback, str(path), getattr(error, "detail", str(error)))]
    except Overtime:
        read = [
            Unreadable(fallback, str(path), reading_overtime(limits.max_seconds_per_submission))
        ]
    if student:
        read = [replace(submission, student_id=student) for submission in read]
    return list(grade_all(read, key, limits=limits))
