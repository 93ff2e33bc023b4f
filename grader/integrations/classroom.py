"""GitHub Classroom: the ``result`` that ``classroom-resources/autograding-grading-reporter``
reads, and the ``grader classroom`` run that writes it.

The reporter base64-decodes ``<RUNNER>_RESULTS``, takes the runner's ``max_score`` as the
points possible, and adds up every test's ``score`` in JavaScript, left to right and
unrounded (``src/notify-classroom.js``). So each answer id is one test whose score is
rounded to the gradebook's 4 decimals, the roundings are chosen to add up to the rounded
total, and the last scoring test absorbs the float error of the sum: the reporter's
``Points x/y`` is exactly our total.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from grader.errors import GraderError, OutputError
from grader.grading.results import ItemResult, StudentResult
from grader.intake.identity import controls_escaped
from grader.limits import DEFAULT_LIMITS, Limits
from grader.render.feedback import render_feedback
from grader.rubric.load import load_rubric
from grader.run.single import OneFile, grade_file
from grader.variants.keys import answer_key

RunnerStatus = Literal["pass", "fail", "error"]

PLACES = 4
"""Decimals of a test's score: those of ``gradebook.csv``."""


def classroom_result(
    result: StudentResult, *, test_code: str = "", filename: str = ""
) -> dict[str, Any]:
    """The reporter's JSON for one student: one test per answer id, scores adding up."""
    if result.status == "error":
        return error_result(
            f"Your answers could not be read: {result.error}",
            result.max_score,
            test_code=test_code,
            filename=filename,
        )
    scores = summing_scores([item.score for item in result.items], result.score)
    tests = [
        {
            "name": _name(item),
            "status": _test_status(item),
            "score": _json_number(score),
            "max_score": _json_number(item.max_score),
            # the reporter prints it in the job's log: one line, no terminal escape
            "message": controls_escaped(item.message),
            "test_code": test_code,
            "filename": filename,
            "line_no": 0,  # the reporter prints " - line <n>" unless it is 0
            "duration": 0,
        }
        for item, score in zip(result.items, scores, strict=True)
    ]
    passed = all(test["status"] == "pass" for test in tests)
    return {
        "version": 1,
        "status": "pass" if passed else "fail",
        "max_score": _json_number(result.max_score),
        "tests": tests,
    }


def error_result(
    message: str, max_score: float = 0.0, *, test_code: str = "", filename: str = ""
) -> dict[str, Any]:
    """A result saying grading could not happen: zero points, status ``error``.

    With ``max_score`` 0 (the rubric itself could not be read) the reporter counts no
    points at all rather than a zero, and fails the job with the message.
    """
    return {
        "version": 1,
        "status": "error",
        "max_score": _json_number(max_score),
        "tests": [
            {
                "name": "grading",
                "status": "error",
                "score": 0,
                "max_score": _json_number(max_score),
                "message": controls_escaped(message),
                "test_code": test_code,
                "filename": filename,
                "line_no": 0,
                "duration": 0,
            }
        ],
    }


def encode_result(data: dict[str, Any]) -> str:
    """Base64 of the compact UTF-8 JSON, as the official graders' ``btoa(JSON.stringify())``."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def summing_scores(scores: Sequence[float], total: float) -> list[float]:
    """Scores rounded to ``PLACES`` decimals whose left-to-right float sum is exactly the
    total rounded the same way (largest remainders get the rounding units)."""
    unit = 10**PLACES
    target = round(total * unit)
    scaled = [score * unit for score in scores]
    units = [math.floor(value + 1e-6) for value in scaled]
    order = sorted(range(len(scores)), key=lambda i: units[i] - scaled[i])
    short = target - sum(units)
    for index in order[: max(short, 0)]:
        units[index] += 1
    rounded = [count / unit for count in units]
    return _exact_float_sum(rounded, target / unit)


def _exact_float_sum(values: list[float], want: float) -> list[float]:
    """Nudge one non-zero value by a few ulps so that ``0 + v1 + v2 + ...`` in IEEE
    doubles (what JavaScript's ``reduce`` does) gives ``want`` exactly. The last scoring
    value is tried first, then the others: not every position can absorb the rounding.
    Where none can, the values are left as they are (the sum is then off by an ulp)."""
    scoring = [index for index, value in enumerate(values) if value]
    for position in reversed(scoring):
        others = 0.0
        for index, value in enumerate(values):
            if index != position:
                others += value
        candidate = want - others
        for _ in range(16):
            trial = [*values[:position], candidate, *values[position + 1 :]]
            total = 0.0
            for value in trial:
                total += value
            if total == want:
                if math.isclose(candidate, values[position], abs_tol=1e-9):
                    return trial
                break
            candidate = math.nextafter(candidate, math.inf if total < want else -math.inf)
    return values


def _test_status(item: ItemResult) -> RunnerStatus:
    if item.status == "unreadable":
        return "error"  # the reporter prints an error's message; a failure only its name
    full = item.status == "correct" or (item.max_score > 0 and item.score >= item.max_score)
    return "pass" if full else "fail"


def _name(item: ItemResult) -> str:
    return f"{item.id}: {item.title}" if item.title else item.id


def _json_number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


# --- the run ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassroomRun:
    """What ``grader classroom`` produced: the reporter's JSON and the student's feedback."""

    result: dict[str, Any]
    feedback: str


def run_classroom(
    answers: Path,
    rubric: Path,
    *,
    github_output: Path | None,
    step_summary: Path | None = None,
    student: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ClassroomRun:
    """Grade one answers file; append ``result=<base64 JSON>`` to ``github_output`` and
    the feedback to ``step_summary``.

    Whatever goes wrong with the rubric or the answers becomes a result with status
    ``error`` and the reason, so that the reporter always has something to read (also
    a file whose reading or grading passed ``limits.max_seconds_per_submission``); only
    failing to write the result at all raises (``OutputError``).
    """
    if github_output is None:
        raise OutputError(
            "GITHUB_OUTPUT is not set: grader classroom runs in a GitHub Actions step "
            "(to check answers by hand, use: grader check ANSWERS --rubric RUBRIC)"
        )
    test_code = f"grader check {answers} --rubric {rubric}"
    run = _grade(answers, rubric, test_code, student, limits)
    append(github_output, f"result={encode_result(run.result)}\n")
    if step_summary is not None:
        append(step_summary, run.feedback.rstrip("\n") + "\n\n")
    return run


def _grade(
    answers: Path, rubric: Path, test_code: str, student: str | None, limits: Limits
) -> ClassroomRun:
    """``student``: the id whose variant the answers are graded against (the action's
    ``student`` input, by default the repository's name); None: the file's own."""
    try:
        key = answer_key(load_rubric(rubric), source=str(rubric))
    except GraderError as error:
        message = f"The rubric could not be used, so nothing was graded: {error}"
        feedback = (
            "# Autograding could not run\n\n"
            f"> {message}\n\n"
            "This is a problem with the assignment, not with your answers: "
            "tell your instructor.\n"
        )
        return ClassroomRun(error_result(message, test_code=test_code), feedback)
    how = OneFile(
        one_student="the action grades one student's file",
        missing=f"there is no {answers} in the repository: commit your answers there",
    )
    (result,) = grade_file(answers, key, student=student, how=how, limits=limits)
    data = classroom_result(result, test_code=test_code, filename=str(answers))
    return ClassroomRun(data, render_feedback(result, key.rubric))


def append(path: Path, text: str) -> None:
    """Append to a file GitHub Actions reads after the step (it may not exist yet)."""
    try:
        # errors=: a lone surrogate from a student's JSON escape is written as its escape
        with path.open("a", encoding="utf-8", newline="\n", errors="backslashreplace") as file:
            file.write(text)
    except OSError as error:
        raise OutputError(f"{path}: cannot append: {error.strerror or error}") from None
