"""The student an LMS bulk download names in a file or folder name.

**Canvas** ("Download Submissions" of an assignment) writes every submitted file flat into
one folder, named ``<name>_[late_]<user id>_<file id>_<file name as uploaded>``: the
student's name as Canvas writes it (lower case, no spaces), ``late`` when the submission
came after the due date, the student's Canvas user id (the ``ID`` column of a Canvas
gradebook export), the id Canvas gave the uploaded file, and the file's own name, to
which Canvas adds ``-1``, ``-2``, ... when the student had already uploaded a file of
that name (a resubmission): ``smithjane_late_123456_7890123_answers-1.json``.

**Moodle** ("Download all submissions") writes a folder per student, named
``<Full Name>_<participant id>_assignsubmission_file_`` (older versions, and the
download without folders: that prefix before each file's name). The participant id is
the number of the grading worksheet's ``Identifier`` column (``Participant 1234567``).

In such a download the id the LMS encoded is the student id (``LmsName.student_id``),
as a student's folder's name is in a folder per student. Files of one student are told
apart by ``LmsName.order`` (Canvas: the file id, then the resubmission number; the
larger is the later upload), so that the later replaces the earlier and says so.

Only ``str`` methods: no regular expression, so the work is linear in the name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

CANVAS = "Canvas"
MOODLE = "Moodle"
_MOODLE_MARK = "_assignsubmission_"
_MAX_DIGITS = 20


@dataclass(frozen=True)
class LmsName:
    """What an LMS download's name says about its student."""

    lms: str
    """``Canvas`` or ``Moodle``."""
    student_id: str
    """The Canvas user id or the Moodle participant id (digits)."""
    name: str
    """The student's name as the LMS wrote it."""
    late: bool
    """Canvas marked the submission late."""
    order: tuple[int, ...]
    """Larger is a later upload by the same student."""

    def describe(self) -> str:
        """``Canvas user 123456 (smithjane, late)``: for a row's warnings."""
        kind = "user" if self.lms == CANVAS else "participant"
        late = ", late" if self.late else ""
        return f"{self.lms} {kind} {self.student_id} ({self.name}{late})"


def _digits(text: str) -> bool:
    return 0 < len(text) <= _MAX_DIGITS and text.isascii() and text.isdigit()


def canvas_file(file_name: str) -> LmsName | None:
    """The Canvas student a bulk-download file name names, if it is one."""
    parts = file_name.split("_", 4)
    if len(parts) >= 5 and parts[1].casefold() == "late":
        name, user, upload, rest, late = parts[0], parts[2], parts[3], parts[4], True
    else:
        parts = file_name.split("_", 3)
        if len(parts) < 4:
            return None
        name, user, upload, rest = parts
        late = False
    if not (name and _digits(user) and _digits(upload) and rest):
        return None
    stem = PurePath(rest).stem
    head, dash, number = stem.rpartition("-")
    resubmission = int(number) if dash and head and _digits(number) else 0
    return LmsName(CANVAS, user, name, late, (int(upload), resubmission))


def moodle_name(name: str) -> LmsName | None:
    """The Moodle participant a download's folder name (or, without folders, file name)
    names, if it is one."""
    at = name.rfind(_MOODLE_MARK)
    if at <= 0:
        return None
    full_name, underscore, participant = name[:at].rpartition("_")
    if not (underscore and full_name.strip() and _digits(participant)):
        return None
    return LmsName(MOODLE, participant, full_name.strip(), False, ())


def lms_entry(name: str, *, folder: bool) -> LmsName | None:
    """The student an entry of a download names: a folder by Moodle's rule, a file by
    Canvas's or by Moodle's (a download without folders)."""
    if folder:
        return moodle_name(name)
    return canvas_file(name) or moodle_name(name)


def lms_source(source: str) -> LmsName | None:
    """The student named by where a submission was read (its ``source``): the file's
    name (Canvas, flat Moodle) or its folder's (Moodle)."""
    path = PurePath(source)
    return lms_entry(path.name, folder=False) or lms_entry(path.parent.name, folder=True)
