"""The LMS gradebook files of ``--format canvas|moodle [--roster PATH]`` (``grade`` and
``grader merge``): the exporters, by name.

Each is a ``grader.run.batch.Export``, written next to ``gradebook.csv`` (which is always
written: README.md, "What `grade` writes") and committed with it: ``canvas.csv`` or
``moodle.csv``, and with a roster, ``roster-report.csv`` (roster students without a
submission, submissions matching no roster student). ``EXPORTERS`` maps each ``--format``
to what makes its export from the options; the roster is read and checked then, before
any grading, so a bad one fails the command at once and nothing is written. Also the
student ids of a roster, for ``grader sheet --roster`` (``roster_student_ids``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError
from grader.grading.results import StudentResult
from grader.integrations.canvas import (
    CanvasRoster,
    assignment_column,
    read_canvas_roster,
    render_canvas,
    student_column_count,
)
from grader.integrations.moodle import IDENTIFIERS as MOODLE_IDENTIFIERS
from grader.integrations.moodle import (
    NO_ROSTER_HEADER,
    MoodleRoster,
    participant_number,
    read_moodle_roster,
    render_moodle,
)
from grader.integrations.roster import (
    RosterMatch,
    cell,
    match_roster,
    read_rows,
    render_roster_report,
    safe,
)
from grader.rubric.models import Rubric
from grader.run.batch import Export, ExportOutput
from grader.solver.key import AnswerKey

REPORT = "roster-report.csv"


@dataclass(frozen=True)
class ExportOptions:
    """What the command line says of an export."""

    roster: Path | None
    rubric: Rubric
    assignment_id: str | None = None


def roster_problems(match: RosterMatch, file_name: str) -> tuple[str, ...]:
    """Lines for stderr after the run: who matched no roster student, who is missing."""
    lines = []
    if match.unmatched:
        lines.append(
            f"{len(match.unmatched)} submission(s) match no roster student "
            f"(left out of {file_name}; see {REPORT}):"
        )
        lines += [f"  {result.student_id}: {why}" for result, why in match.unmatched]
    if match.missing:
        lines.append(f"{len(match.missing)} roster student(s) have no submission.")
    return tuple(lines)


@dataclass(frozen=True)
class CanvasExport:
    """``canvas.csv`` (the roster's students, the assignment's column) and the report."""

    canvas: CanvasRoster
    column: str

    def __call__(self, results: Sequence[StudentResult], key: AnswerKey) -> ExportOutput:
        match = match_roster(self.canvas.roster, results)
        text = render_canvas(self.canvas, match, self.column, key.rubric.max_score)
        return ExportOutput(
            (("canvas.csv", text), (REPORT, render_roster_report(match))),
            roster_problems(match, "canvas.csv"),
        )


@dataclass(frozen=True)
class MoodleExport:
    """``moodle.csv``: with a roster, its students (and the report); else every student,
    by student id."""

    moodle: MoodleRoster | None

    def __call__(self, results: Sequence[StudentResult], key: AnswerKey) -> ExportOutput:
        if self.moodle is None:
            listed = [(safe(result.student_id), result) for result in results]
            text = render_moodle(listed, NO_ROSTER_HEADER, key.rubric.title)
            return ExportOutput((("moodle.csv", text),))
        match = match_roster(self.moodle.roster, results)
        index = self.moodle.identifier_index
        pairs = [(student.identifiers[index], result) for student, result in match.pairs]
        text = render_moodle(pairs, self.moodle.identifier_header, key.rubric.title)
        return ExportOutput(
            (("moodle.csv", text), (REPORT, render_roster_report(match))),
            roster_problems(match, "moodle.csv"),
        )


def canvas_export(options: ExportOptions) -> CanvasExport:
    if options.roster is None:
        raise UsageError("--format canvas needs --roster: the gradebook CSV exported from Canvas")
    canvas = read_canvas_roster(options.roster)
    column = assignment_column(canvas, options.rubric.title, options.assignment_id)
    return CanvasExport(canvas, column)


def moodle_export(options: ExportOptions) -> MoodleExport:
    roster = options.roster
    return MoodleExport(None if roster is None else read_moodle_roster(roster))


EXPORTERS: Mapping[str, Callable[[ExportOptions], Export]] = {
    "canvas": canvas_export,
    "moodle": moodle_export,
}
"""Each ``--format`` but ``plain``, and what makes its export from the options."""

FORMATS = ("plain", *EXPORTERS)
"""The ``--format`` choices: ``plain`` writes only the grader's own outputs."""

ASSIGNMENT_ID_FORMATS = ("canvas",)
"""The formats that take ``--assignment-id``."""


def lms_exports(
    format: str, roster: Path | None, rubric: Rubric, assignment_id: str | None = None
) -> tuple[Export, ...]:
    """Read the roster and make the exports of ``format`` (``plain``: none)."""
    if format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got {format!r}")
    if assignment_id is not None and format not in ASSIGNMENT_ID_FORMATS:
        raise UsageError(f"--assignment-id is for --format {' or '.join(ASSIGNMENT_ID_FORMATS)}")
    if format == "plain":
        if roster is not None:
            raise UsageError(f"--roster needs --format {' or --format '.join(EXPORTERS)}")
        return ()
    return (EXPORTERS[format](ExportOptions(roster, rubric, assignment_id)),)


def roster_student_ids(path: Path, column: str | None = None) -> list[str]:
    """The student ids of a roster, for ``grader sheet --roster``: the ``column`` named
    (any case; Moodle's ``Identifier``, ``Participant 1234567``, gives the number); else
    a CSV's ``student_id`` column; else a Canvas gradebook export's most preferred
    identifier (SIS Login ID, then SIS User ID, then ID); else a Moodle export's
    (Username, then Email address, then ID number, then Identifier). Rows without one,
    and Canvas's Points Possible row, are left out."""
    rows = read_rows(path)
    header = [each.strip().casefold() for each in rows[0]]
    wanted = column.strip().casefold() if column is not None else "student_id"
    if wanted in header:
        index = header.index(wanted)
        ids = [cell(row, index) for row in rows[1:] if "Points Possible" not in cell(row, 0)]
        if wanted in MOODLE_IDENTIFIERS["participant"]:
            ids = [participant_number(each) for each in ids]
    elif column is not None:
        raise UsageError(
            f"roster {path}: no column {column!r} (columns: {', '.join(rows[0][:12])})"
        )
    else:
        canvas = student_column_count(rows[0]) is not None
        roster = read_canvas_roster(path).roster if canvas else read_moodle_roster(path).roster
        ids = [
            next((each for each in student.identifiers if each), "") for student in roster.students
        ]
    found = [each for each in ids if each]
    if not found:
        raise UsageError(f"roster {path}: no student ids")
    return found
