"""How a student's value is shown back to them: entry positions, and values as read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from grader.intake.values import StudentExpressions, StudentValue
from grader.solver import expr


def entry_label(index: Sequence[int]) -> str:
    """A 1-based entry position as a student reads it: ``v[2]`` style or ``(row 1, col 3)``."""
    if len(index) == 1:
        return f"entry {index[0] + 1}"
    if len(index) == 2:
        return f"row {index[0] + 1} col {index[1] + 1}"
    if len(index) == 3:  # a stack of matrices, one per example (dW over all)
        return f"example {index[0] + 1} row {index[1] + 1} col {index[2] + 1}"
    return str(tuple(i + 1 for i in index))


def shown(value: StudentValue | None) -> Any:
    """The value as read, plain, for results and feedback."""
    if value is None:
        return None
    if isinstance(value, StudentExpressions):
        return [expr.to_text(each) for each in value.exprs]
    return value.tolist() if value.ndim else float(value)
