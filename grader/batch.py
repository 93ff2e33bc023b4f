"""Grading a whole class: read every submission, grade it, write every output.

Results stream to disk as they are made (``results.jsonl`` and feedback files go to a
staging folder), so memory stays flat however large the class; only a small row per
student is kept for the gradebook and the summary. One unreadable file never stops the
batch: it becomes a row with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from grader.grading import grade_submission, unreadable_result
from grader.output import FileNames, staging
from grader.readers import read_all
from grader.render.feedback import render_feedback
from grader.render.gradebook import render_gradebook
from grader.render.summary import ClassSummary
from grader.results import ItemResult, StudentResult
from grader.solver import AnswerKey
from grader.submission import Submission, Unreadable


DUPLICATE = "duplicate submission"


@dataclass(frozen=True)
class BatchReport:
    """What a batch did: the summary, how many were read, which could not be."""

    summary: ClassSummary
    students: int
    unreadable: tuple[str, ...]

    @property
    def exit_code(self) -> int:
        return 1 if self.unreadable else 0


def grade_all(
    submissions: Iterable[Submission | Unreadable], key: AnswerKey
) -> Iterator[StudentResult]:
    """Results in submission order; an unreadable file yields its error row."""
    for submission in submissions:
        if isinstance(submission, Unreadable):
            yield unreadable_result(submission, key)
        else:
            yield grade_submission(submission, key)


Export = Callable[[Sequence[StudentResult], AnswerKey], tuple[str, str]]
"""An extra gradebook format: the rows (one per student) in, ``(file name, text)`` out."""


def write_outputs(
    results: Iterable[StudentResult],
    key: AnswerKey,
    out_dir: Path,
    *,
    on_result: Callable[[StudentResult], None] | None = None,
    exports: Sequence[Export] = (),
) -> BatchReport:
    """Write ``gradebook.csv``, ``results.jsonl``, ``feedback/`` (and ``exports``) whole,
    or nothing.

    Two submissions with the same student id: both are graded and recorded in
    ``results.jsonl``; the one read later (files in sorted order, rows in file order)
    counts in the gradebook and the feedback, and both say so.
    """
    answer_ids = [answer.id for answer in key.rubric.answers]
    summary = ClassSummary(answer_ids, key.rubric.max_score)
    rows: dict[str, StudentResult] = {}
    unreadable: list[str] = []
    names = FileNames()
    with staging(out_dir) as stage:
        feedback_dir = stage / "feedback"
        feedback_dir.mkdir()
        with (stage / "results.jsonl").open("w", encoding="utf-8", newline="\n") as jsonl:
            for result in results:
                earlier = rows.get(result.student_id)
                if earlier is not None:
                    result = replace(
                        result,
                        warnings=(
                            *result.warnings,
                            f"{DUPLICATE}: {result.student_id} also submitted {earlier.source}; "
                            f"this submission ({result.source}) is the one graded",
                        ),
                    )
                    summary.remove(earlier.score, earlier.status == "graded", earlier.items)
                jsonl.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
                name = names(result.student_id)
                (feedback_dir / f"{name}.md").write_text(
                    render_feedback(result, key.rubric), encoding="utf-8"
                )
                rows[result.student_id] = _row_only(result)
                summary.add(
                    result.score,
                    result.status == "graded",
                    {item.id: item.status for item in result.items},
                    {item.id: item.diagnoses for item in result.items if item.diagnoses},
                )
                if result.status == "error":
                    unreadable.append(f"{result.source}: {result.error}")
                if on_result is not None:
                    on_result(result)
        table = list(rows.values())
        (stage / "gradebook.csv").write_text(
            render_gradebook(table, answer_ids), encoding="utf-8", newline=""
        )
        for export in exports:
            file_name, text = export(table, key)
            (stage / file_name).write_text(text, encoding="utf-8", newline="")
    return BatchReport(summary, len(rows), tuple(unreadable))


def _row_only(result: StudentResult) -> StudentResult:
    """The result without what the gradebook does not need (raw answers, messages)."""
    items = tuple(
        ItemResult(
            id=item.id,
            score=item.score,
            max_score=item.max_score,
            status=item.status,
            message="",
            diagnoses=item.diagnoses,
        )
        for item in result.items
    )
    return StudentResult(
        student_id=result.student_id,
        source=result.source,
        score=result.score,
        max_score=result.max_score,
        status=result.status,
        error=result.error,
        items=items,
        warnings=tuple(w for w in result.warnings if w.startswith(DUPLICATE)),
    )


def grade_path(
    path: Path,
    key: AnswerKey,
    out_dir: Path,
    *,
    on_result: Callable[[StudentResult], None] | None = None,
    exports: Sequence[Export] = (),
) -> BatchReport:
    """Grade every submission under ``path`` and write the outputs into ``out_dir``."""
    known = [answer.id for answer in key.rubric.answers]
    results = grade_all(read_all(path, known), key)
    return write_outputs(results, key, out_dir, on_result=on_result, exports=exports)
