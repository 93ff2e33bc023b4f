"""Moodle: a CSV for the gradebook's "Import → CSV file".

A Moodle download's student ids are participant ids (``grader.intake.lms_names``); the
grading worksheet ("Download grading worksheet") lists them in its ``Identifier`` column
(``Participant 1234567``), beside ``Email address``: as the roster, it matches them.

Three columns: an identifier (mapped to username, email address or ID number in the
import form), the grade (mapped to the grade item) and a feedback text (mapped to
"feedback for" the item). Moodle refuses the whole file if one identifier matches no
user, so with a roster only its students are written (a submission matching no one goes
to ``roster-report.csv``), and a roster student without a submission gets an empty
grade, which Moodle imports as "no grade", with the feedback "no submission".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError
from grader.grading.results import StudentResult
from grader.integrations.roster import NO_SUBMISSION, Roster, RosterStudent, cell, read_rows
from grader.render.feedback import points
from grader.render.gradebook import csv_text, number, safe_text

IDENTIFIERS = {
    "username": ("username", "user name"),
    "email": ("email address", "email", "e-mail", "e-mail address"),
    "idnumber": ("id number", "idnumber"),
    "participant": ("identifier",),
}
"""Header names (any case) of the columns Moodle can identify a user by, preferred first."""

_FIRST = ("first name", "firstname")
_LAST = ("last name", "lastname", "surname")
_FULL = ("full name", "fullname", "name")

NO_ROSTER_HEADER = "Username"


@dataclass(frozen=True)
class MoodleRoster:
    """A Moodle roster, and which of its columns the import file identifies users by."""

    roster: Roster
    identifier_header: str
    identifier_index: int
    """Position of that column among ``RosterStudent.identifiers``."""


def read_moodle_roster(path: Path) -> MoodleRoster:
    """Read a Moodle grade export or participant list (any CSV with an identifier column)."""
    rows = read_rows(path)
    header = [each.strip() for each in rows[0]]
    folded = [each.casefold() for each in header]
    columns = [
        (index, each)
        for names in IDENTIFIERS.values()
        for index, each in enumerate(header)
        if folded[index] in names
    ]
    if not columns:
        wanted = ", ".join(names[0] for names in IDENTIFIERS.values())
        raise UsageError(
            f"roster {path}: no identifier column ({wanted}); got {', '.join(header[:6])}"
        )
    if all(folded[index] in IDENTIFIERS["participant"] for index, _ in columns):
        raise UsageError(
            f"roster {path}: its Identifier column matches a Moodle download's participants, "
            "but Moodle's gradebook import needs a Username, Email address or ID number "
            "column too (the grading worksheet has Email address)"
        )
    names = [_find(folded, _FIRST), _find(folded, _LAST), _find(folded, _FULL)]
    students: list[RosterStudent] = []
    for row in rows[1:]:
        identifiers = tuple(
            participant_number(cell(row, index))
            if folded[index] in IDENTIFIERS["participant"]
            else cell(row, index)
            for index, _ in columns
        )
        if not any(identifiers):
            continue
        name = " ".join(part for part in (cell(row, index) for index in names) if part)
        shown = next(value for value in identifiers if value)
        label = f"{name} ({shown})" if name else shown
        students.append(RosterStudent(identifiers, identifiers, label))
    if not students:
        raise UsageError(f"roster {path}: no student rows")
    kept = tuple(each for _, each in columns)
    return MoodleRoster(Roster(str(path), kept, tuple(students)), kept[0], 0)


def participant_number(identifier: str) -> str:
    """``1234567`` of the grading worksheet's ``Participant 1234567`` (in any language):
    the participant id a Moodle download names its folders by."""
    number = identifier.strip().rpartition(" ")[2]
    return number if number.isascii() and number.isdigit() else ""


def _find(folded: Sequence[str], names: Sequence[str]) -> int | None:
    return next((index for index, each in enumerate(folded) if each in names), None)


def feedback_text(result: StudentResult | None) -> str:
    """One line of feedback: the score, then the answers short of full marks by kind."""
    if result is None:
        return NO_SUBMISSION
    score = f"Score {points(result.score)} / {points(result.max_score)}"
    if result.status == "error":
        return f"{score}: the submission could not be read ({result.error})."
    groups: dict[str, list[str]] = {}
    for item in result.items:
        if item.score < item.max_score:
            shown = item.id
            if item.score > 0:
                shown += f" ({points(item.score)}/{points(item.max_score)})"
            groups.setdefault(_GROUPS.get(item.status, "Not full marks"), []).append(shown)
    if not groups:
        return f"{score}: every answer right."
    parts = [f"{name}: {', '.join(ids)}" for name, ids in groups.items()]
    return f"{score}. " + ". ".join(parts) + "."


_GROUPS = {
    "partial": "Partly right",
    "incorrect": "Wrong",
    "missing": "Missing",
    "unreadable": "Could not be read",
}


def render_moodle(
    rows: Sequence[tuple[str, StudentResult | None]], identifier_header: str, title: str
) -> str:
    """The import file: identifier, grade (empty for no submission), feedback."""
    item = " ".join(title.split())
    lines = [[identifier_header, item, f"Feedback: {item}"]]
    for identifier, result in rows:
        grade = "" if result is None else number(result.score)
        lines.append([identifier, grade, safe_text(feedback_text(result))])
    return csv_text(lines)
