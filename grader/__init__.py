"""grader: auto-grades homework whose answers are numbers, vectors, matrices and
derivatives, against an answer key computed from the rubric's parameters.

The public surface is what ``__all__`` lists; everything else may move. ``grade``,
``load`` and ``check`` (``grader.api``) are imported the first time they are used, so
that importing ``grader`` (and the ``grader check`` command) does not import pandas.
"""

from typing import TYPE_CHECKING, Any

from grader.errors import (
    AnswerError,
    ExpressionError,
    GraderError,
    OutputError,
    RubricError,
    SubmissionError,
)
from grader.grading.grade import grade_submission
from grader.grading.results import ItemResult, StudentResult
from grader.intake.submission import Submission
from grader.limits import DEFAULT_LIMITS, Limits
from grader.rubric.load import load_rubric, parse_rubric
from grader.rubric.models import Rubric
from grader.solver.key import AnswerKey, solve

if TYPE_CHECKING:
    from grader.api import Feedback, check, grade, load
    from grader.run.graded import ClassResults

__all__ = [
    "DEFAULT_LIMITS",
    "AnswerError",
    "AnswerKey",
    "ClassResults",
    "ExpressionError",
    "Feedback",
    "GraderError",
    "ItemResult",
    "Limits",
    "OutputError",
    "Rubric",
    "RubricError",
    "StudentResult",
    "Submission",
    "SubmissionError",
    "check",
    "grade",
    "grade_submission",
    "load",
    "load_rubric",
    "parse_rubric",
    "solve",
]

__version__ = "0.2.0"

_API = {"grade", "load", "check", "Feedback", "ClassResults"}


def __getattr__(name: str) -> Any:
    """``grade``, ``load``, ``check`` and their result types, imported when first used."""
    if name in _API:
        from grader import api
        from grader.run import graded

        value = getattr(graded if name == "ClassResults" else api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
