"""The reference solver: every answer a rubric names, computed from its parameters alone."""

from grader.solver.key import AnswerKey, Expressions, KeyEntry, solve

__all__ = ["AnswerKey", "Expressions", "KeyEntry", "solve"]
