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
from grader.grading import grade_submission
from grader.results import ItemResult, StudentResult
from grader.rubric import Rubric
from grader.rubric_file import load_rubric, parse_rubric
from grader.solver import AnswerKey, solve
from grader.submission import Submission

__all__ = [
    "AnswerError",
    "AnswerKey",
    "ExpressionError",
    "GraderError",
    "ItemResult",
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
