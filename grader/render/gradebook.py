"""The gradebook CSV (README.md, "What `grade` writes"): one row per student, points per
answer id."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from grader.grading.results import StudentResult
from grader.intake.submission import ID_CONFLICT

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def header(answer_ids: Sequence[str]) -> list[str]:
    return ["student_id", *answer_ids, "total", "max_total", "percent", "status"]


def row(result: StudentResult, answer_ids: Sequence[str]) -> list[str]:
    """One student's cells; scores stay numbers, text cells are made inert for Excel."""
    scores = {item.id: item.score for item in result.items}
    status = status_text(result)
    return [
        safe_text(result.student_id),
        *(number(scores.get(answer_id, 0.0)) for answer_id in answer_ids),
        number(result.score),
        number(result.max_score),
        f"{result.percent:.2f}",
        safe_text(status),
    ]


def status_text(result: StudentResult) -> str:
    """The status cell's text (before ``safe_text``): ``graded`` or why not, and the
    result's warnings."""
    status = "graded" if result.status == "graded" else (result.error or "error")
    if result.warnings:  # an id conflict first: such a status does not start "graded"
        first = [w for w in result.warnings if w.startswith(ID_CONFLICT)]
        rest = [w for w in result.warnings if not w.startswith(ID_CONFLICT)]
        status = "; ".join([*first, status, *rest])
    return status


def csv_text(rows: Iterable[Sequence[str]]) -> str:
    """Rows as CSV text, the one way every CSV we write is laid out (``\n`` endings)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def csv_line(cells: Sequence[str]) -> str:
    """One row as its CSV line, exactly as ``csv_text`` writes it.

    A row with nothing to quote (no comma, quote or line break in any cell, and not one
    lone empty cell) is its cells joined by commas; any other row is ``csv_text``'s
    own. The joining is most of a gradebook's rows, and cheaper than a writer and its
    buffer per row, which is what a row would otherwise cost (there is no writer kept
    between calls: nothing is shared)."""
    line = ",".join(cells)
    if (
        line.count(",") == len(cells) - 1
        and '"' not in line
        and "\n" not in line
        and "\r" not in line
        and line
    ):
        return line + "\n"
    return csv_text([cells])


def render_gradebook(results: Sequence[StudentResult], answer_ids: Sequence[str]) -> str:
    """The whole gradebook at once (``grader.run.batch`` streams the same lines)."""
    return csv_text([header(answer_ids), *(row(result, answer_ids) for result in results)])


def number(value: float) -> str:
    """A score as the shortest text that reads back to it, rounded to 4 decimals."""
    text = f"{round(value, 4):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def safe_text(text: str) -> str:
    """Neutralise a text cell a spreadsheet would run as a formula (OWASP CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text
