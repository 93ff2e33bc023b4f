"""The answer key as a readable table (``grader key``)."""

from __future__ import annotations

import numpy as np

from grader.solver.key import AnswerKey, Expressions


def render_key_table(key: AnswerKey) -> str:
    lines = [f"Answer key: {key.rubric.title}", ""]
    width = max(len(entry.answer.id) for entry in key)
    for entry in key:
        points = f"{entry.answer.points:g} pt"
        label = f"{entry.answer.id:<{width}}  {points:>6}  "
        for number, line in enumerate(_value_lines(entry.expected)):
            lines.append((label if number == 0 else " " * len(label)) + line)
    total = f"{key.rubric.max_score:g}"
    lines += ["", f"{'total':<{width}}  {total:>3} pt"]
    return "\n".join(lines) + "\n"


def _value_lines(value: object) -> list[str]:
    if isinstance(value, Expressions):
        return ["(" + ", ".join(value.texts) + ")"]
    array = np.asarray(value, dtype=np.float64) + 0.0  # + 0.0: an exact zero prints as 0, not -0
    if array.ndim == 0:
        return [f"{float(array):.6g}"]
    if array.ndim == 1:
        return ["[" + ", ".join(f"{x:.6g}" for x in array) + "]"]
    if array.ndim == 2:
        return ["[" + ", ".join(f"{x:>11.6g}" for x in row) + "]" for row in array]
    # a stack of matrices (dW over all examples): each under its example's number
    lines = []
    for number, block in enumerate(array.reshape(array.shape[0], -1, array.shape[-1]), start=1):
        lines.append(f"example {number}:")
        lines += ["  " + line for line in _value_lines(block)]
    return lines
