"""A student's submission as read from a file, before any answer is interpreted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Submission:
    """One student's raw answers by id (JSON values or CSV cell texts), and where from."""

    student_id: str
    source: str
    answers: dict[str, Any]
    warnings: tuple[str, ...] = field(default=())
    """Things worth telling the student and instructor: duplicate or unknown ids, ..."""


@dataclass(frozen=True)
class Unreadable:
    """A file (or one row of a class file) that could not be read, with the reason."""

    student_id: str
    source: str
    error: str
