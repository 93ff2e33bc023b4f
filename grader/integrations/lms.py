"""The LMS gradebook files of ``grade --format canvas|moodle [--roster PATH]``.

They are ``grader.run.batch`` exports, written next to ``gradebook.csv`` (which is always
written: README.md, "What `grade` writes") and committed with it: ``canvas.csv`` or
``moodle.csv``, and with a roster, ``roster-report.csv`` (roster students without a
submission, submissions matching no roster student). The roster is read and checked
before any grading, so a bad one fails the command at once and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from grader.errors import UsageError
from grader.grading.results import StudentResult
from grader.integrations.canvas import (
    assignment_column,
    read_canvas_roster,
    render_canvas,
    student_column_count,
)
from grader.integrations.moodle import IDENTIFIERS as MOODLE_IDENTIFIERS
from grader.integrations.moodle import (
    NO_ROSTER_HEADER,
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
from grader.run.batch import Export
from grader.solver.key import AnswerKey

FORMATS = ("plain", "canvas", "moodle")
REPORT = "roster-report.csv"


class LmsExports:
    """The exports for one ``--format``, and after the run, what roster matching found."""

    def __init__(self) -> None:
        self.exports: list[Export] = []
        self.file_names: list[str] = []
        self.match: RosterMatch | None = None

    def problems(self) -> list[str]:
        """Lines for stderr after the run: who matched no roster student, who is missing."""
        if self.match is None:
            return []
        lines = []
        if self.match.unmatched:
            lines.append(
                f"{len(self.match.unmatched)} submission(s) match no roster student "
                f"(left out of {self.file_names[0]}; see {REPORT}):"
            )
            lines += [f"  {result.student_id}: {why}" for result, why in self.match.unmatched]
        if self.match.missing:
            lines.append(f"{len(self.match.missing)} roster student(s) have no submission.")
        return lines

    def _add(self, name: str, export: Export) -> None:
        self.exports.append(export)
        self.file_names.append(name)


def lms_exports(
    format: str, roster: Path | None, rubric: Rubric, assignment_id: str | None = None
) -> LmsExports:
    """Read the roster and build the exports of ``format`` (``plain``: none)."""
    if format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got {format!r}")
    if assignment_id is not None and format != "canvas":
        raise UsageError("--assignment-id is for --format canvas")
    lms = LmsExports()
    if format == "plain":
        if roster is not None:
            raise UsageError("--roster needs --format canvas or --format moodle")
        return lms
    if format == "canvas":
        if roster is None:
            raise UsageError(
                "--format canvas needs --roster: the gradebook CSV exported from Canvas"
            )
        canvas = read_canvas_roster(roster)
        column = assignment_column(canvas, rubric.title, assignment_id)
        students = canvas.roster

        def canvas_export(rows: Sequence[StudentResult], key: AnswerKey) -> tuple[str, str]:
            lms.match = match_roster(students, rows)
            return "canvas.csv", render_canvas(canvas, lms.match, column, key.rubric.max_score)

        lms._add("canvas.csv", canvas_export)
    elif roster is None:

        def moodle_plain(rows: Sequence[StudentResult], key: AnswerKey) -> tuple[str, str]:
            listed = [(safe(row.student_id), row) for row in rows]
            return "moodle.csv", render_moodle(listed, NO_ROSTER_HEADER, key.rubric.title)

        lms._add("moodle.csv", moodle_plain)
        return lms
    else:
        moodle = read_moodle_roster(roster)
        students = moodle.roster

        def moodle_export(rows: Sequence[StudentResult], key: AnswerKey) -> tuple[str, str]:
            lms.match = match_roster(students, rows)
            listed = [
                (student.identifiers[moodle.identifier_index], result)
                for student, result in lms.match.pairs
            ]
            return "moodle.csv", render_moodle(listed, moodle.identifier_header, key.rubric.title)

        lms._add("moodle.csv", moodle_export)

    def report(rows: Sequence[StudentResult], key: AnswerKey) -> tuple[str, str]:
        del key
        match = lms.match if lms.match is not None else match_roster(students, rows)
        return REPORT, render_roster_report(match)

    lms._add(REPORT, report)
    return lms


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
