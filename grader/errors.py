"""The one exception tree of the package.

Every error a user can cause is a ``GraderError``; the CLI maps each class to an exit
status in one place (``exit_code``) and prints ``str(error)``, which names the file, the
answer id or key path, the entry, and what was expected.

    GraderError
    ├── RubricError          the instructor's rubric is invalid            (exit 2)
    ├── ExpressionError      an expression could not be parsed or evaluated
    ├── SubmissionError      a student's file could not be read            (exit 1)
    │   └── AnswerError      one answer inside a readable file is unreadable
    ├── UsageError           options that do not fit together, a bad roster (exit 2)
    └── OutputError          an output could not be written                (exit 2)
        └── WriteError       writing the outputs failed midway (a full disk) (exit 3)

Exit statuses (README, "Exit status"): 0 all read; 1 some submissions unreadable (their
rows say why); 2 a bad command line, rubric, roster or output folder (nothing written);
3 the outputs could not be written (a full disk, a folder removed; nothing written);
4 an unexpected error of the grader itself (a one-line message, the traceback in a file).
"""

from __future__ import annotations

EXIT_WRITE = 3
"""Exit status when writing the outputs failed midway (``WriteError``)."""
EXIT_INTERNAL = 4
"""Exit status of an unexpected error (a bug): never 1, which a CI recipe accepts."""


class GraderError(Exception):
    """Base of every error the package raises for something a user can cause."""

    exit_code: int = 2


class RubricError(GraderError):
    """The rubric file is invalid: it names the file, the key path and what was expected."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        self.path = path
        self.key = key
        self.detail = message
        where = ": ".join(part for part in (path, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class ExpressionError(GraderError):
    """An expression is not in the allowed grammar, too large, or cannot be evaluated."""

    exit_code = 2


class SubmissionError(GraderError):
    """A submission file could not be read at all (the whole student is ``error``)."""

    exit_code = 1

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.source = source
        self.detail = message
        super().__init__(f"{source}: {message}" if source else message)


class AnswerError(SubmissionError):
    """One answer in a readable file could not be read (that item is ``unreadable``)."""

    def __init__(
        self, message: str, *, source: str | None = None, answer_id: str | None = None
    ) -> None:
        self.answer_id = answer_id
        where = ": ".join(part for part in (source, answer_id) if part)
        SubmissionError.__init__(self, message)
        self.source = source
        self.detail = message
        self.args = (f"{where}: {message}" if where else message,)


class UsageError(GraderError):
    """Options that do not fit together, or an LMS roster that cannot be used."""

    exit_code = 2


class OutputError(GraderError):
    """An output file or folder could not be written."""

    exit_code = 2


class WriteError(OutputError):
    """Writing the outputs failed midway (a full disk, the output folder removed): what
    was staged is removed, and the previous outputs are as they were."""

    exit_code = EXIT_WRITE
