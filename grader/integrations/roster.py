"""An LMS roster (Canvas's gradebook export, a Moodle grade export or participant list),
and matching our student ids to its students.

A student id (a file's ``student_id``, its stem, or its folder's name) matches a roster
student when it equals exactly (after both are put in the one form of
``grader.intake.identity``: Unicode NFC, spaces around dropped) one of the student's
identifiers, tried column by column in the roster's order of preference (e.g. SIS Login
ID, then SIS User ID, then ID); failing that, when it equals the part before ``@`` of
exactly one roster student's e-mail-like identifier. Case counts: ``ALICE`` is not
``alice``, so no submission can take a classmate's cell by changing case; an id that
differs from a roster identifier only in case is reported with that student named, for
the instructor to decide. Several roster students matching, or one roster student
matched twice, are reported, never guessed; so are ids that match one student in one
column and another in another (a SIS User ID equal to another student's Canvas ID).
A result whose id another submission also claims (an id conflict) matches no one until
the instructor decides. Roster students without a submission and
submissions matching no roster student are both reported, never silently dropped.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.errors import SubmissionError, UsageError
from grader.grading.results import StudentResult
from grader.intake.readers import csv_rows, decode, read_bytes
from grader.intake.submission import ID_CONFLICT
from grader.render.gradebook import csv_text, safe_text

NO_SUBMISSION = "no submission"
NOT_ON_ROSTER = "not on the roster"
CLAIMED_TWICE = (
    "another submission claims this student id too (id conflict): left out of the LMS "
    "file until you decide who is who"
)


@dataclass(frozen=True)
class RosterStudent:
    """One student row of a roster."""

    cells: tuple[str, ...]
    """The row's cells in the roster's kept columns (``Roster.header``)."""
    identifiers: tuple[str, ...]
    """Values our student ids may equal, one per identifier column, most preferred first
    (blank where the row has none)."""
    label: str
    """How reports name the student (name and an identifier)."""


@dataclass(frozen=True)
class Roster:
    """The students of a roster file, with the columns an export keeps."""

    source: str
    header: tuple[str, ...]
    students: tuple[RosterStudent, ...]


@dataclass(frozen=True)
class RosterMatch:
    """Each roster student with their result (None: no submission), and the results
    matching no one, each with the reason."""

    pairs: tuple[tuple[RosterStudent, StudentResult | None], ...]
    unmatched: tuple[tuple[StudentResult, str], ...]

    @property
    def missing(self) -> tuple[RosterStudent, ...]:
        return tuple(student for student, result in self.pairs if result is None)


def match_roster(roster: Roster, results: Sequence[StudentResult]) -> RosterMatch:
    """Pair every roster student with at most one result (see the module's rule)."""
    depth = max((len(student.identifiers) for student in roster.students), default=0)
    exact: list[dict[str, list[int]]] = [{} for _ in range(depth)]
    local: dict[str, list[int]] = {}
    folded: dict[str, list[int]] = {}
    for index, student in enumerate(roster.students):
        for column, value in enumerate(student.identifiers):
            if value.strip():
                exact[column].setdefault(_key(value), []).append(index)
                folded.setdefault(_key(value).casefold(), []).append(index)
        for value in student.identifiers:
            if "@" in value:
                local.setdefault(_key(value.split("@", 1)[0]), []).append(index)
    taken: dict[int, StudentResult] = {}
    unmatched: list[tuple[StudentResult, str]] = []
    for result in results:
        if any(warning.startswith(ID_CONFLICT) for warning in result.warnings):
            unmatched.append((result, CLAIMED_TWICE))
            continue
        found = _find(_key(result.student_id), exact, local)
        if found is None:
            alike = sorted(set(folded.get(_key(result.student_id).casefold(), ())))
            reason = NOT_ON_ROSTER
            if alike:
                labels = "; ".join(roster.students[i].label for i in alike[:3])
                reason += f" (differs only in case from {labels}: ids are matched exactly)"
            unmatched.append((result, reason))
        elif len(found) > 1:
            labels = "; ".join(roster.students[i].label for i in found[:3])
            unmatched.append((result, f"matches several roster students ({labels})"))
        elif found[0] in taken:
            other = taken[found[0]].student_id
            label = roster.students[found[0]].label
            unmatched.append((result, f"{label} is already matched by {other}"))
        else:
            taken[found[0]] = result
    pairs = tuple((student, taken.get(index)) for index, student in enumerate(roster.students))
    return RosterMatch(pairs, tuple(unmatched))


def _find(
    key: str, exact: Sequence[dict[str, list[int]]], local: dict[str, list[int]]
) -> list[int] | None:
    if not key:
        return None
    # every column, not the first that has the key: an id that is one student's SIS
    # User ID and another's Canvas ID matches both, and is reported, not guessed
    found = sorted({index for column in exact for index in column.get(key, ())})
    if found:
        return found
    found = sorted(set(local.get(key, ())))
    return found if len(found) == 1 else None


def _key(text: str) -> str:
    """The form ids and roster identifiers are compared in (exact but for Unicode's two
    spellings of one letter and spaces around)."""
    return unicodedata.normalize("NFC", text).strip()


def render_roster_report(match: RosterMatch) -> str:
    """``roster-report.csv``: roster students with no submission, and submissions that
    match no roster student (and so are in no LMS file)."""
    rows = [["problem", "roster_student", "student_id", "source"]]
    rows += [[NO_SUBMISSION, safe(student.label), "", ""] for student in match.missing]
    rows += [
        [safe(reason), "", safe(result.student_id), safe(result.source)]
        for result, reason in match.unmatched
    ]
    return csv_text(rows)


def safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (ids come from students' files)."""
    return safe_text(text)


def read_rows(path: Path) -> list[list[str]]:
    """The rows of a roster CSV (UTF-8 with or without BOM, or Latin-1; ``,`` ``;`` or tab)."""
    try:
        rows = csv_rows(decode(read_bytes(path), str(path)), str(path))
    except SubmissionError as error:
        raise UsageError(f"roster {path}: {error.detail}") from None
    if not rows:
        raise UsageError(f"roster {path}: the file is empty")
    return rows


def cell(row: Sequence[str], index: int | None) -> str:
    """The cell at ``index``, or blank when the row is short or there is no such column."""
    if index is None or index >= len(row):
        return ""
    return row[index].strip()
