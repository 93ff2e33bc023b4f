"""``grader report``: the class report of a graded run's folder, as one HTML file.

Only this command imports matplotlib (through ``grader.render.plots``).
"""

from __future__ import annotations

from pathlib import Path

from grader.errors import WriteError
from grader.render.report import render_report
from grader.run.graded import ClassResults, load_graded
from grader.run.output import atomic_write
from grader.solver.key import AnswerKey

REPORT = "report.html"


def write_report(
    grades_dir: Path, key: AnswerKey, out: Path | None = None
) -> tuple[Path, ClassResults]:
    """Write the report of the class graded into ``grades_dir`` (its ``results.jsonl``,
    checked against ``key``'s rubric) to ``out`` (default: ``report.html`` in
    ``grades_dir``). The path written and the class."""
    graded = load_graded(grades_dir, key)
    target = out if out is not None else grades_dir / REPORT
    titles = {answer.id: answer.title for answer in key.rubric.answers}
    page = render_report(
        key.rubric.title,
        titles,
        graded.statistics,
        graded.histogram,
        graded.item_analysis,
        graded.diagnoses,
        graded.students_to_talk_to,
    )
    try:
        atomic_write(target, page)
    except OSError as error:
        raise WriteError(f"{target}: cannot write the report: {error.strerror or error}") from None
    return target, graded
