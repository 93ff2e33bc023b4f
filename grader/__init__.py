"""grader: auto-grades homework whose answers are numbers, vectors, matrices and
derivatives, against an answer key computed from the rubric's parameters.

The public surface is what ``__all__`` lists; everything else may move.
"""

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

__all__ = [
    "DEFAULT_LIMITS",
    "AnswerError",
    "AnswerKey",
    "ExpressionError",
    "GraderError",
    "ItemResult",
    "Limits",
    "OutputError",
    "Rubric",
    "RubricError",
    "StudentResult",
    "Submission",
    "SubmissionError",
    "grade_submission",
    "load_rubric",
    "parse_rubric",
    "solve",
]

__version__ = "0.1.0"
