"""The caps on what is read from students' files: one frozen value, passed explicitly.

Every reader and grader takes a ``Limits`` (default ``DEFAULT_LIMITS``): nothing is read
from a module global, so a worker process of ``grade --jobs N`` grades under the very caps
its parent was given, whatever the start method (``fork``, ``spawn``, ``forkserver``).
Raise or lower a cap by making a new value::

    limits = Limits(max_file_bytes=100 * 1024 * 1024)
    grade_path(folder, key, out, limits=limits)

A cap is one field below (a name, a default, a docstring); ``docs/untrusted-input.md``
lists them with what happens beyond each.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from grader.errors import UsageError


@dataclass(frozen=True, slots=True)
class Limits:
    """The caps on untrusted input (``docs/untrusted-input.md``); each field is one cap."""

    # reading files (grader.intake.readers)
    max_file_bytes: int = 10 * 1024 * 1024
    """Largest submission file read (a class CSV of tens of thousands of rows fits)."""
    max_rows_per_file: int = 10_000
    """Most students one file (a class CSV) may give: each is a gradebook row and a
    feedback file, so a small file of empty rows cannot write a hundred thousand files.
    The rows beyond are one error row saying how many were not read."""
    max_id_length: int = 200
    """Longest student id, in characters."""
    max_folder_entries: int = 10_000
    """Most files and folders searched for the answers file in one student's folder."""
    max_folder_depth: int = 32
    """Deepest nesting of folders searched for the answers file in one student's folder."""
    max_warnings: int = 10
    """Most unknown (or renamed) answer ids listed one by one in a submission's warnings."""
    max_seconds_per_submission: int = 10
    """Longest time, in seconds, reading one file may take, and grading one submission:
    beyond it that submission is an error row saying so, and the class goes on (0: no
    limit; ``grader.deadline`` says what the timer can interrupt)."""
    # reading answers (grader.intake.values, grader.intake.numbers)
    max_answer_text: int = 100_000
    """Longest text of one answer (a CSV cell or a JSON string), in characters."""
    max_entries: int = 10_000
    """Most entries one answer may have, whatever the expected shape."""
    max_list_depth: int = 3
    """Most levels of nested lists: answers are numbers, vectors, matrices, or stacks of
    matrices (a layer's ∂L/∂W for every example)."""
    max_number_text: int = 1_000
    """Longest text read as one number (an arithmetic expression longer is refused)."""
    # expressions students write (grader.solver.expr.parse)
    max_expression_length: int = 10_000
    """Longest expression answer, in characters."""
    max_expression_depth: int = 200
    """Most levels of nesting in an expression (brackets, unary minus, ``^``)."""
    max_expression_nodes: int = 5_000
    """Most nodes of an expression's tree."""
    max_literal_length: int = 100
    """Longest numeric literal inside an expression, in characters."""

    def __post_init__(self) -> None:
        for each in fields(self):
            value = getattr(self, each.name)
            if type(value) is not int or value < 0:
                raise UsageError(f"Limits.{each.name} must be a whole number >= 0, got {value!r}")

    def with_options(self, options: list[str]) -> Limits:
        """These limits with ``NAME=VALUE`` options applied (``grade --limit``)."""
        names = {each.name for each in fields(self)}
        changes: dict[str, int] = {}
        for option in options:
            name, _, text = option.partition("=")
            name = name.strip().replace("-", "_")
            if name not in names:
                raise UsageError(f"unknown limit {name!r}; the limits are: {', '.join(names)}")
            try:
                changes[name] = int(text.replace("_", ""))
            except ValueError:
                raise UsageError(f"limit {name}: expected a whole number, got {text!r}") from None
        return replace(self, **changes)


DEFAULT_LIMITS = Limits()
"""The caps as documented in ``docs/untrusted-input.md``."""
