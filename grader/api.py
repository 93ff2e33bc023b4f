"""The Python API (``grader.grade``, ``grader.load``, ``grader.check``): the commands'
work from a script or a notebook, through the same pipeline as the command line.

``grade`` is ``grade SUBMISSIONS --rubric R --out DIR`` (into a temporary folder when no
``out`` is given) read back with ``load``; ``check`` is ``grader check``.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from grader.deadline import Overtime, reading_overtime, within
from grader.errors import GraderError
from grader.grading.results import StudentResult
from grader.intake.readers import Where, read_json
from grader.intake.submission import Submission, Unreadable
from grader.limits import DEFAULT_LIMITS, Limits
from grader.render.feedback import render_feedback
from grader.render.feedback_html import render_feedback_html
from grader.rubric.load import load_rubric
from grader.rubric.models import Rubric
from grader.run.batch import grade_path
from grader.run.graded import ClassResults, load_graded
from grader.run.prepare import grade_all
from grader.run.single import OneFile, grade_file
from grader.solver.key import AnswerKey
from grader.variants.keys import answer_key

RubricLike = str | Path | Rubric
"""A rubric file's path, or a rubric already loaded (``grader.load_rubric``)."""


def _key(rubric: RubricLike) -> AnswerKey:
    if isinstance(rubric, Rubric):
        return answer_key(rubric, source="<rubric>")
    return answer_key(load_rubric(Path(rubric)), source=str(rubric))


def grade(
    submissions: str | Path,
    rubric: RubricLike,
    out: str | Path | None = None,
    jobs: int = 1,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> ClassResults:
    """Grade a folder or file of submissions, as ``grade`` does. With ``out``, the
    outputs (gradebook, results, feedback, items.csv, summary.md) are written there;
    without, nothing is left behind. The class's results: ``.gradebook`` (one row per
    student) and ``.items`` (one row per student and answer) are DataFrames. ``limits``:
    the caps on what is read, and the time limit per file and per submission
    (``grader.Limits``), which holds in any thread (``grader.deadline``)."""
    key = _key(rubric)
    path = Path(submissions)
    if not (path.is_dir() or path.is_file()):
        raise GraderError(f"{path}: no such file or folder")
    if out is not None:
        grade_path(path, key, Path(out), jobs=jobs, limits=limits)
        return load_graded(Path(out), key)
    with tempfile.TemporaryDirectory(prefix="grader-") as folder:
        grade_path(path, key, Path(folder), jobs=jobs, limits=limits)
        return load_graded(Path(folder), key)


def load(grades_dir: str | Path) -> ClassResults:
    """The class graded into ``grades_dir`` by ``grade`` or ``grader merge`` (its
    ``results.jsonl``): the same results ``grade`` returns."""
    return load_graded(Path(grades_dir))


@dataclass(frozen=True)
class Feedback:
    """One student's grading, shown in a notebook as their feedback."""

    result: StudentResult
    markdown: str
    """The feedback file ``grade`` writes for this student."""
    html: str

    @property
    def score(self) -> float:
        return self.result.score

    @property
    def max_score(self) -> float:
        return self.result.max_score

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.markdown


def check(
    answers: Mapping[str, Any] | str | Path,
    rubric: RubricLike,
    *,
    student: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Feedback:
    """Grade one student's answers, as ``grader check`` does: a path of an answers file,
    or the answers as a dict (``{"q1.yhat": [...], ...}``, or a JSON submission's
    ``{"student_id": ..., "answers": {...}}``; numpy arrays are fine). ``student``: whose
    variant to grade against (a rubric with variants). ``limits``: as for ``grade``;
    reading the answers and grading them are each under its time limit."""
    key = _key(rubric)
    if not isinstance(answers, Mapping):
        how = OneFile(one_student="grader.check grades one student's answers")
        [result] = grade_file(Path(answers), key, student=student, how=how, limits=limits)
    else:
        data = dict(answers) if "answers" in answers else {"answers": dict(answers)}
        stem = student or "notebook"
        known = [answer.id for answer in key.rubric.answers]
        read: Submission | Unreadable
        seconds = limits.max_seconds_per_submission
        try:
            with within(seconds):
                text = json.dumps(_plain(data))
                where = Where(stem, None, limits)
                read = read_json(text, "<answers>", known, where, limits=limits)
        except GraderError as error:
            read = Unreadable(stem, "<answers>", getattr(error, "detail", str(error)))
        except Overtime:
            read = Unreadable(stem, "<answers>", reading_overtime(seconds))
        if student is not None:
            read = replace(read, student_id=student)
        [result] = grade_all([read], key, limits=limits)
    shown = key.rubric
    return Feedback(result, render_feedback(result, shown), render_feedback_html(result, shown))


def _plain(value: Any) -> Any:
    """``value`` with numpy arrays and numbers as lists and floats (JSON's own types)."""
    if isinstance(value, Mapping):
        return {str(name): _plain(each) for name, each in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(each) for each in value]
    tolist = getattr(value, "tolist", None)
    return _plain(tolist()) if callable(tolist) else value
