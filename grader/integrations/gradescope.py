"""Gradescope: ``results.json`` of the autograder specification, and the run that writes it.

Gradescope runs ``run_autograder`` with the student's upload in ``/autograder/submission``
and reads ``/autograder/results/results.json``: a top-level ``score`` (which overrides the
tests' total) and one test per answer id with ``name``, ``score``, ``max_score``,
``status`` (``passed``/``failed``), ``output`` and ``visibility``. Students see only what
is in the JSON, never the script's stdout, so the reason a file could not be read goes in
``output`` too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grader.errors import OutputError
from grader.grading.results import ItemResult, StudentResult
from grader.limits import DEFAULT_LIMITS, Limits
from grader.render.feedback import inline, points
from grader.rubric.load import load_rubric
from grader.rubric.models import Rubric
from grader.run.output import atomic_write
from grader.run.single import OneFile, grade_file
from grader.variants.keys import answer_key

PLACES = 4
"""Decimals of the scores: those of ``gradebook.csv``."""


def gradescope_results(result: StudentResult, rubric: Rubric) -> dict[str, Any]:
    """The ``results.json`` of one student."""
    summary = f"Score: {points(result.score)} / {points(result.max_score)}"
    lines = [summary]
    if result.status == "error":
        lines += ["", f"Your submission could not be read, so no answer was graded: {result.error}"]
        lines += ["Fix the file and submit it again."]
    lines += [f"Note: {warning}" for warning in result.warnings]
    return {
        "score": round(result.score, PLACES),
        "output": "\n".join(lines),
        "visibility": "visible",
        "tests": [_test(item, rubric) for item in result.items],
    }


def _test(item: ItemResult, rubric: Rubric) -> dict[str, Any]:
    lines = [item.message]
    if item.status not in ("missing", "unreadable"):
        lines.append(f"You wrote: {inline(item.raw)}")
        if item.read is not None and inline(item.read) != inline(item.raw):
            lines.append(f"Read as: {inline(item.read)}")
    if rubric.feedback.show_expected and item.status != "correct":
        lines.append(f"Expected: {inline(item.expected)}")
    return {
        "name": f"{item.id}: {item.title}" if item.title else item.id,
        "score": round(item.score, PLACES),
        "max_score": round(item.max_score, PLACES),
        "status": "passed" if item.status == "correct" else "failed",
        "output": "\n".join(lines),
        "visibility": "visible",
    }


def run_gradescope(
    submission_dir: Path,
    rubric: Path,
    out: Path,
    *,
    metadata: Path | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> dict[str, Any]:
    """Grade the one answers file in ``submission_dir`` and write ``results.json`` to ``out``.

    The student id (whose variant, for a rubric with variants) is the email of the first
    submitter in Gradescope's ``submission_metadata.json`` (``metadata``, by default
    beside ``submission_dir``); without a readable one, the file's own id.

    An upload that cannot be read (or whose reading or grading passed
    ``limits.max_seconds_per_submission``) still gets a results file (score 0, the reason
    in its output); an invalid rubric raises ``RubricError`` and writes nothing, so Gradescope
    shows the autograder failed instead of recording a zero.
    """
    key = answer_key(load_rubric(rubric), source=str(rubric))
    student = metadata_student(metadata or submission_dir.parent / "submission_metadata.json")
    how = OneFile(one_student="upload one student's answers file", fallback_id=submission_dir.name)
    (result,) = grade_file(submission_dir, key, student=student, how=how, limits=limits)
    data = gradescope_results(result, key.rubric)
    try:
        atomic_write(out, json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    except OSError as error:
        raise OutputError(f"{out}: cannot write: {error.strerror or error}") from None
    return data


def metadata_student(path: Path) -> str | None:
    """The student id in Gradescope's ``submission_metadata.json``: the first submitter's
    ``email`` (``users[0].email``; variants drop its @domain), else their ``sid``; None
    when the file is missing or holds neither."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, list) or not users or not isinstance(users[0], dict):
        return None
    for field in ("email", "sid"):
        value = users[0].get(field)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None
