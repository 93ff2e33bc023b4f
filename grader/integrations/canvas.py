"""Canvas: a gradebook CSV that Canvas's gradebook import accepts.

The instructor exports the course gradebook from Canvas and passes it as the roster. The
export keeps its student columns (``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``,
``Section``: whichever it has, in the layouts the importer accepts) and its ``Points
Possible`` row if it has one, and fills one assignment column, ``<title> (<assignment
id>)``: Canvas matches the column to the assignment by that id, so no new assignment is
created by accident. Other columns are left out (Canvas leaves out of an import what a
file does not mention). Students without a submission get a blank cell, which Canvas
reads as "no change"; they are listed in ``roster-report.csv``.

The header rule is Canvas's ``GradebookImporter#row_has_student_headers?`` and the
student-column count that follows it (``app/models/gradebook_importer.rb``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError
from grader.integrations.roster import Roster, RosterMatch, RosterStudent, cell, read_rows
from grader.render.gradebook import csv_text, number, safe_text

_TITLE_AND_ID = re.compile(r"\A(.*)\s\((\d+)\)\Z", re.DOTALL)
"""``Assignment.title_and_id``: ``Homework 1 (1234)`` is assignment 1234."""

IGNORED_COLUMNS = (
    "Current Score",
    "Current Points",
    "Current Grade",
    "Final Score",
    "Final Points",
    "Final Grade",
    "Override Score",
    "Override Grade",
    "Override Status",
)
"""Totals Canvas computes itself; the importer drops any column whose header holds one."""

IDENTIFIER_COLUMNS = ("SIS Login ID", "SIS User ID", "ID")
"""Columns our student ids are matched to, most preferred first."""


@dataclass(frozen=True)
class CanvasRoster:
    """A Canvas gradebook export: its students, its Points Possible row, its other columns."""

    roster: Roster
    points_row: tuple[str, ...] | None
    """The student-column cells of the ``Points Possible`` row, if the export has one."""
    other_columns: tuple[str, ...]
    """The headers after the student columns (assignments, totals, custom columns)."""


def student_column_count(header: Sequence[str]) -> int | None:
    """How many leading columns are student information, by the importer's rule (the last
    of them holds ``Section``); None if the importer would reject the header."""
    row = [cell.strip() for cell in header]
    if len(row) > 3 and "Student" in row[0] and "ID" in row[1]:
        names = 3
    elif len(row) > 4 and "LastName" in row[0] and "FirstName" in row[1] and "ID" in row[2]:
        names = 4
    else:
        return None
    count = names

    def at(index: int) -> str:
        return row[index] if index < len(row) else ""

    if re.search(r"SIS\s+Login\s+ID", at(names - 1)):
        count += 1
    elif re.search(r"SIS\s+User\s+ID", at(names - 1)) and re.search(r"SIS\s+Login\s+ID", at(names)):
        integration = 1 if re.search(r"Integration\s+ID", at(names + 1)) else 0
        count += 2 + integration
        if re.search(r"Root\s+Account", at(names + 1 + integration)):
            count += 1
    return count if "Section" in at(count - 1) else None


def read_canvas_roster(path: Path) -> CanvasRoster:
    """Read a gradebook CSV exported from Canvas."""
    rows = read_rows(path)
    header = [each.strip() for each in rows[0]]
    count = student_column_count(header)
    if count is None:
        raise UsageError(
            f"roster {path}: not a Canvas gradebook export: its header must start with "
            "Student, ID, (SIS User ID, SIS Login ID,) Section, then assignment columns "
            f"(got {', '.join(header[:5])})"
        )
    kept = tuple(header[:count])
    first_names = 2 if "LastName" in header[0] else 1
    id_columns = [_index(kept, name) for name in IDENTIFIER_COLUMNS]
    points_row: tuple[str, ...] | None = None
    students: list[RosterStudent] = []
    for row in rows[1:]:
        cells = tuple(cell(row, index) for index in range(count))
        if "Points Possible" in cell(row, 0):
            points_row = tuple(row[index] if index < len(row) else "" for index in range(count))
            continue
        if _blank_row(row):
            continue
        identifiers = tuple(cell(row, index) for index in id_columns)
        name = ", ".join(part for part in cells[:first_names] if part) or "(no name)"
        shown = next((value for value in identifiers if value), "")
        label = f"{name} ({shown})" if shown else name
        students.append(RosterStudent(cells, identifiers, label))
    if not students:
        raise UsageError(f"roster {path}: no student rows")
    return CanvasRoster(Roster(str(path), kept, tuple(students)), points_row, tuple(header[count:]))


def _index(header: Sequence[str], name: str) -> int | None:
    for index, text in enumerate(header):
        if re.fullmatch(re.escape(name).replace(r"\ ", r"\s+"), text):
            return index
    return None


def _blank_row(row: Sequence[str]) -> bool:
    """Rows the importer skips: every cell blank, ``Muted`` or ``Manual Posting``."""
    return all(
        not each.strip() or each.strip() == "Muted" or each.strip().startswith("Manual Posting")
        for each in row
    )


def title_and_id(header: str) -> tuple[str, str | None]:
    """``Assignment.title_and_id``: a column's assignment title and id (None if no id)."""
    found = _TITLE_AND_ID.match(header)
    return (found.group(1), found.group(2)) if found else (header, None)


def assignment_column(roster: CanvasRoster, title: str, assignment_id: str | None) -> str:
    """The header of the column to fill: the roster's column of that assignment id, or of
    the rubric's title; else ``<title> (<assignment id>)``."""
    columns = [(header, *title_and_id(header)) for header in roster.other_columns]
    if assignment_id is not None:
        assignment_id = assignment_id.strip()
        if not assignment_id.isdigit():
            raise UsageError(
                f"--assignment-id must be the Canvas assignment's number (as in "
                f"'Homework 1 (1234)'), got {assignment_id!r}"
            )
        same = [header for header, _, number in columns if number == assignment_id]
        column = same[0] if same else f"{_one_line(title)} ({assignment_id})"
    else:
        wanted = _one_line(title).casefold()
        same = [h for h, name, number in columns if number and name.strip().casefold() == wanted]
        if len(same) != 1:
            listed = ", ".join(header for header, _, number in columns if number) or "none"
            found = "no" if not same else "several"
            raise UsageError(
                f"roster {roster.roster.source}: {found} assignment column titled {title!r}; "
                "pass --assignment-id with the Canvas assignment's id, the number in its "
                f"column header (the export's assignment columns: {listed})"
            )
        column = same[0]
    clash = [name for name in IGNORED_COLUMNS if name in column]
    if clash:
        raise UsageError(
            f"Canvas ignores a column whose header contains {clash[0]!r}: "
            f"rename the assignment (column {column!r})"
        )
    return column


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render_canvas(roster: CanvasRoster, match: RosterMatch, column: str, max_score: float) -> str:
    """The import file: the roster's student columns and the one assignment column."""
    rows = [[*roster.roster.header, column]]
    if roster.points_row is not None:
        rows.append([*roster.points_row, number(max_score)])
    for student, result in match.pairs:
        # The roster's own cells are copied, but made inert: a name beginning with '='
        # would be run as a formula by the spreadsheet an instructor checks the file in.
        cells = [safe_text(cell) for cell in student.cells]
        rows.append([*cells, "" if result is None else number(result.score)])
    return csv_text(rows)
