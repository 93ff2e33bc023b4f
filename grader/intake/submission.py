"""A student's submission as read from a file, before any answer is interpreted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DUPLICATE_ANSWER = "duplicate answer"
"""How a warning about an answer id given twice in one file begins (the last one counts);
such warnings also go into the gradebook's status column."""
ID_MISMATCH = "student id mismatch"
"""How a warning begins about a ``student_id`` in a student's folder's file that is not
the folder's name (the folder's name counts); also in the gradebook's status column."""
ID_CONFLICT = "id conflict"
"""How the warning begins on each of two submissions that claim one student id (two loose
files, a loose file and a student's folder, two rows): both rows stay, their gradebook
status begins with it, and the instructor decides who is who."""
RESUBMISSION = "resubmission"
"""How the warning begins on two uploads of one student in an LMS bulk download (the
later counts)."""


@dataclass(frozen=True)
class Submission:
    """One student's raw answers by id (JSON values or CSV cell texts), and where from."""

    student_id: str
    source: str
    answers: dict[str, Any]
    warnings: tuple[str, ...] = field(default=())
    """Things worth telling the student and instructor: duplicate or unknown ids, ..."""
    decimal_comma: bool = False
    """The file is a ``;``- or tab-delimited spreadsheet, whose cells may use decimal
    commas (``0,52``); ``grader.intake.values`` then reads such cells European-style."""


@dataclass(frozen=True)
class Unreadable:
    """A file (or one row of a class file) that could not be read, with the reason."""

    student_id: str
    source: str
    error: str
