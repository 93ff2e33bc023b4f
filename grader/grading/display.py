"""How a student's value is shown back to them: entries named as the homework names
them, and values as read.

An entry is named in the homework's notation: ∂L/∂w₁₂ (row j = 1, column k = 2 of
∂L/∂W, k = 0 the bias), ∂L/∂v₀, "example 2" of an answer over all examples, ∂F₂/∂y of a
Jacobian. A rubric may name an answer's entries itself (``entries``, row by row); an
answer of a kind with no notation of its own falls back to "entry 3" or "row 1 col 3".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from grader.intake.values import StudentExpressions, StudentValue
from grader.rubric.models import (
    CompositionAnswer,
    FunctionsProblem,
    GradientAnswer,
    JacobianAnswer,
    NetworkAnswer,
    NetworkProblem,
    Rubric,
    ValueAnswer,
)
from grader.rubric.quantities import QUANTITIES
from grader.solver import expr
from grader.solver.key import KeyEntry

SUMMARY_AFTER = 4
"""A list of more entries than this is summarised: the first three, then how many more."""


def entry_label(index: Sequence[int]) -> str:
    """A 1-based entry position, for answers with no notation: ``entry 2``, ``row 1 col 3``."""
    if len(index) == 1:
        return f"entry {index[0] + 1}"
    if len(index) == 2:
        return f"row {index[0] + 1} col {index[1] + 1}"
    if len(index) == 3:  # a stack of matrices, one per example (dW over all)
        return f"example {index[0] + 1} row {index[1] + 1} col {index[2] + 1}"
    return str(tuple(i + 1 for i in index))


def entry_name(entry: KeyEntry, rubric: Rubric, index: Sequence[int]) -> str:
    """The entry at ``index`` as the homework names it (``entry_label`` if it has no name)."""
    names = entry_names(entry, rubric)
    if names is None or len(index) != len(entry.shape):
        return entry_label(index)
    return names[int(np.ravel_multi_index(tuple(index), entry.shape))]


def summarised(names: Sequence[str]) -> str:
    """'a, b and c'; more than ``SUMMARY_AFTER`` names: 'a, b, c and 5 more'."""
    names = list(names)
    if len(names) > SUMMARY_AFTER:
        return ", ".join(names[:3]) + f" and {len(names) - 3} more"
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def subscript(*numbers: int) -> str:
    """₁₂ for (1, 2); _{10,2} once a number has two digits (w₁₀₂ would be ambiguous)."""
    if all(0 <= n < 10 for n in numbers):
        return "".join(str(n) for n in numbers).translate(_SUBSCRIPT)
    return "_{" + ",".join(str(n) for n in numbers) + "}"


def entry_names(entry: KeyEntry, rubric: Rubric) -> tuple[str, ...] | None:
    """Every entry's name, row by row (None where the answer has no notation)."""
    answer = entry.answer
    if answer.entries is not None:
        return tuple(answer.entries)
    shape = entry.shape
    if not shape:
        return None
    problem = rubric.problems.get(answer.problem)
    if isinstance(answer, NetworkAnswer):
        return _network_names(
            answer, problem if isinstance(problem, NetworkProblem) else None, shape
        )
    if not isinstance(problem, FunctionsProblem):
        return None
    return _function_names(entry, problem, shape)


def _loss_letter(title: str | None) -> str:
    """L, or the letter an answer's title differentiates (∂E/∂v: E)."""
    found = re.match(r"\s*∂\s*(\w)\s*/\s*∂", title or "")
    return found.group(1) if found else "L"


def _network_names(
    answer: NetworkAnswer, problem: NetworkProblem | None, shape: tuple[int, ...]
) -> tuple[str, ...] | None:
    """∂L/∂w₁₂, ∂L/∂v₀, z₂, δ₁, ŷ₂ (a vector output), each '(example i)' over all examples
    and '(layer l)' in a network given by layers (the symbols: ``rubric.quantities``)."""
    stacked = answer.example == "all"
    inner = shape[1:] if stacked else shape
    known = QUANTITIES[answer.quantity]
    kind = known.entries
    own: list[str] | None = None
    if kind != "none" and len(inner) == (2 if kind == "weights" else 1):
        symbol = known.entry
        if known.gradient:
            loss = _loss_letter(answer.title)
            if loss != "L":
                symbol = symbol.replace("∂L/", f"∂{loss}/", 1)
        if kind == "weight":
            own = [f"{symbol}{subscript(k)}" for k in range(inner[0])]
        elif kind == "weights":
            rows, columns = inner
            own = [f"{symbol}{subscript(j + 1, k)}" for j in range(rows) for k in range(columns)]
        else:
            own = [f"{symbol}{subscript(j + 1)}" for j in range(inner[0])]
    elif not inner:
        own = []
    if own is None:
        return None
    layered = problem is not None and problem.layers is not None
    where = [f"layer {answer.layer}"] if layered and answer.layer is not None else []
    if not stacked:
        if not own:
            return None
        return tuple(f"{name} ({', '.join(where)})" if where else name for name in own)
    if not own:
        return tuple(f"example {i}" for i in range(1, shape[0] + 1))
    return tuple(
        f"{name} ({', '.join([*where, f'example {i}'])})"
        for i in range(1, shape[0] + 1)
        for name in own
    )


def _function_names(
    entry: KeyEntry, problem: FunctionsProblem, shape: tuple[int, ...]
) -> tuple[str, ...] | None:
    answer = entry.answer
    names: list[str] | None = None
    if isinstance(answer, GradientAnswer | JacobianAnswer | ValueAnswer):
        variables, outputs = _signature(problem, answer.function)
        if variables is None:
            return None
        f = answer.function
        if isinstance(answer, ValueAnswer):
            names = [f"{f}{subscript(i + 1)}" for i in range(outputs)]
        elif outputs == 0:  # a scalar function's gradient
            names = [f"∂{f}/∂{var}" for var in variables]
        else:
            names = [f"∂{f}{subscript(i + 1)}/∂{var}" for i in range(outputs) for var in variables]
    elif isinstance(answer, CompositionAnswer):
        variables, outputs = _signature(problem, answer.inner)
        _, outer_outputs = _signature(problem, answer.outer)
        if variables is None:
            return None
        d = "d" if len(variables) == 1 else "∂"
        composed = f"({answer.outer}∘{answer.inner})"
        rows = [f"{composed}{subscript(i + 1)}" for i in range(outer_outputs)] or [composed]
        if len(variables) == 1:
            names = [f"{d}{row}/{d}{variables[0]}" for row in rows]
        else:
            names = [f"{d}{row}/{d}{var}" for row in rows for var in variables]
    if names is None or len(names) != int(np.prod(shape)):
        return None
    return tuple(names)


def _signature(problem: FunctionsProblem, function: str) -> tuple[list[str] | None, int]:
    """A rubric function's variables and its number of outputs (0 if scalar-valued)."""
    definition = problem.functions.get(function)
    if definition is None:
        return None, 0
    outputs = 0 if isinstance(definition.expr, str) else len(definition.expr)
    return list(definition.variables), outputs


def shown(value: StudentValue | None) -> Any:
    """The value as read, plain, for results and feedback."""
    if value is None:
        return None
    if isinstance(value, StudentExpressions):
        return [expr.to_text(each) for each in value.exprs]
    return value.tolist() if value.ndim else float(value)
