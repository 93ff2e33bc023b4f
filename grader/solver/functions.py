"""The graph of functions written as expressions: gradients, Jacobians, Hessians,
compositions.

Derivatives are exact: ``expr.diff`` differentiates the parsed tree symbolically, and
numbers come from evaluating those derivative trees at the point (``expr.evaluate_key``:
a value within its own rounding error of 0 is an exact 0). A point where a function or
a derivative asked for is undefined (``log`` of a negative, a division by zero) is found
by ``point_problem`` before anything is computed there.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from grader.rubric.models import (
    Answer,
    CompositionAnswer,
    FunctionDef,
    FunctionsProblem,
    HessianAnswer,
    JacobianAnswer,
    ValueAnswer,
)
from grader.solver import expr
from grader.solver.graph import Graph

Array = NDArray[np.float64]
_UNIT = 2.0**-53


@dataclass(frozen=True)
class Expressions:
    """A vector of expressions in named variables (e.g. a gradient ∇f(x, y))."""

    exprs: tuple[expr.Expr, ...]
    variables: tuple[str, ...]

    @property
    def texts(self) -> list[str]:
        return [expr.to_text(each) for each in self.exprs]


@dataclass(frozen=True)
class ParsedFunction:
    """A rubric function, parsed: its outputs and whether it is scalar-valued."""

    variables: tuple[str, ...]
    outputs: tuple[expr.Expr, ...]
    scalar: bool

    @classmethod
    def from_def(cls, definition: FunctionDef) -> ParsedFunction:
        texts = [definition.expr] if isinstance(definition.expr, str) else definition.expr
        variables = tuple(definition.variables)
        outputs = tuple(expr.parse(text, variables) for text in texts)
        return cls(variables, outputs, isinstance(definition.expr, str))

    def env(self, point: Array | list[float]) -> dict[str, float]:
        return dict(zip(self.variables, (float(c) for c in point), strict=True))

    def value(self, point: Array) -> Array:
        env = self.env(point)
        values = np.array([float(expr.evaluate_key(each, env)) for each in self.outputs])
        return values[0] if self.scalar else values

    @functools.cached_property
    def jacobian_exprs(self) -> tuple[tuple[expr.Expr, ...], ...]:
        return tuple(tuple(expr.diff(out, var) for var in self.variables) for out in self.outputs)

    def jacobian(self, point: Array) -> Array:
        """Rows are outputs, columns variables; a scalar function gives its gradient (n,)."""
        env = self.env(point)
        rows = [[float(expr.evaluate_key(d, env)) for d in row] for row in self.jacobian_exprs]
        matrix = np.array(rows, dtype=np.float64)
        return matrix[0] if self.scalar else matrix

    @functools.cached_property
    def hessian_exprs(self) -> tuple[tuple[expr.Expr, ...], ...]:
        """∂²f/∂x_i∂x_j of a scalar function; entry (j, i) is entry (i, j)'s expression, so
        the matrix is exactly symmetric."""
        gradient, n = self.jacobian_exprs[0], len(self.variables)
        upper = {
            (i, j): expr.diff(gradient[i], self.variables[j]) for i in range(n) for j in range(i, n)
        }
        return tuple(tuple(upper[min(i, j), max(i, j)] for j in range(n)) for i in range(n))

    def hessian(self, point: Array) -> Array:
        """The (n, n) matrix of second derivatives of a scalar function at ``point``."""
        env = self.env(point)
        rows = [[float(expr.evaluate_key(d, env)) for d in row] for row in self.hessian_exprs]
        return np.array(rows, dtype=np.float64).reshape(len(self.variables), len(self.variables))

    def problem_at(self, point: Array | list[float], order: int) -> str | None:
        """What is undefined at ``point`` in the function (order 0), its first derivatives
        (order 1) or its second (order 2), in words; None if all are finite numbers."""
        env = self.env(point)
        layers: list[tuple[str, tuple[expr.Expr, ...]]] = [("", self.outputs)]
        if order >= 1:
            layers.append(("its derivative", tuple(d for row in self.jacobian_exprs for d in row)))
        if order >= 2:
            layers.append(
                ("its second derivative", tuple(h for r in self.hessian_exprs for h in r))
            )
        for what, exprs in layers:
            for each in exprs:
                problem = expr.undefined_at(each, env)
                if problem is not None:
                    inside = f" (in {what} {_clip(expr.to_text(each))})" if what else ""
                    return f"{problem}{inside}"
        return None


def _clip(text: str, size: int = 60) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _point_text(point: list[float]) -> str:
    """The point in a node's name, exactly: ``repr`` of a float is the shortest text that
    reads back as the same float, so two different points never share a node (``:g``
    kept six significant figures, and 1234567 and 1234568 were one point)."""
    return "(" + ", ".join(repr(float(c)) for c in point) + ")"


def build_functions(
    graph: Graph, name: str, problem: FunctionsProblem
) -> dict[str, ParsedFunction]:
    """Add each function's gradient node; point-wise nodes are added on demand."""
    parsed = {fname: ParsedFunction.from_def(d) for fname, d in problem.functions.items()}
    for fname, function in parsed.items():
        if function.scalar:
            gradient = Expressions(
                tuple(expr.diff(function.outputs[0], var) for var in function.variables),
                function.variables,
            )
            graph.param(f"{name}.gradient[{fname}]", gradient)
    return parsed


def value_node(
    graph: Graph, name: str, fname: str, function: ParsedFunction, at: list[float]
) -> str:
    """The node of ``function``'s value at ``at``."""
    return _at_point(graph, f"{name}.value[{fname}]", name, function.value, at)


def jacobian_node(
    graph: Graph, name: str, fname: str, function: ParsedFunction, at: list[float]
) -> str:
    """The node of ``function``'s Jacobian (or gradient) at ``at``."""
    return _at_point(graph, f"{name}.jacobian[{fname}]", name, function.jacobian, at)


def hessian_node(
    graph: Graph, name: str, fname: str, function: ParsedFunction, at: list[float]
) -> str:
    """The node of a scalar ``function``'s Hessian at ``at``."""
    return _at_point(graph, f"{name}.hessian[{fname}]", name, function.hessian, at)


def _at_point(
    graph: Graph, quantity: str, name: str, compute: Callable[[Array], Array], at: list[float]
) -> str:
    node = f"{quantity}@{_point_text(at)}"
    if node not in graph:
        point = graph.param(f"{name}.point{_point_text(at)}", np.array(at, dtype=np.float64))
        graph.add(node, (point,), compute)
    return node


def composition_node(
    graph: Graph,
    name: str,
    outer: tuple[str, ParsedFunction],
    inner: tuple[str, ParsedFunction],
    at: list[float],
) -> str:
    """D(outer∘inner)(at) = D outer(inner(at)) · D inner(at), by the chain rule."""
    (oname, ofunc), (iname, ifunc) = outer, inner
    node = f"{name}.composition[{oname}∘{iname}]@{_point_text(at)}"
    if node in graph:
        return node
    inner_value = value_node(graph, name, iname, ifunc, at)
    inner_jac = jacobian_node(graph, name, iname, ifunc, at)
    outer_jac = graph.add(
        f"{name}.jacobian[{oname}]@{iname}{_point_text(at)}",
        (inner_value,),
        lambda point: ofunc.jacobian(np.atleast_1d(point)),
    )

    def chain(outer_j: Array, inner_j: Array) -> Array:
        left = np.atleast_2d(outer_j)  # (outputs, middle)
        right = inner_j.reshape(left.shape[1], -1)  # (middle, variables)
        product = left @ right
        # a sum that cancels to within its rounding is an exact 0 (as in expr.evaluate_key)
        spread = np.abs(left) @ np.abs(right)
        product = np.where(np.abs(product) <= (left.shape[1] + 1) * _UNIT * spread, 0.0, product)
        out_shape = () if ofunc.scalar else (len(ofunc.outputs),)
        in_shape = () if len(ifunc.variables) == 1 else (len(ifunc.variables),)
        return np.asarray(product.reshape(out_shape + in_shape), dtype=np.float64)

    graph.add(node, (outer_jac, inner_jac), chain)
    return node


def answer_problem(functions: dict[str, ParsedFunction], answer: Answer) -> str | None:
    """Why the answer's point is outside the domain of what it asks for (the function's
    value, derivatives or second derivatives there), in words naming the function and the
    point; None when everything asked for is a finite number there."""
    if isinstance(answer, ValueAnswer | JacobianAnswer | HessianAnswer):
        order = {"value": 0, "jacobian": 1, "hessian": 2}[answer.quantity]
        steps = [(answer.function, functions[answer.function], list(answer.at))]
    elif isinstance(answer, CompositionAnswer):
        inner = functions[answer.inner]
        problem = inner.problem_at(answer.at, 1)
        if problem is not None:
            return _undefined(answer.inner, inner, list(answer.at), problem)
        middle = np.atleast_1d(inner.value(np.array(answer.at, dtype=np.float64))).tolist()
        order, steps = 1, [(answer.outer, functions[answer.outer], middle)]
    else:
        return None
    for fname, function, point in steps:
        problem = function.problem_at(point, order)
        if problem is not None:
            return _undefined(fname, function, point, problem)
    return None


def _undefined(fname: str, function: ParsedFunction, point: list[float], problem: str) -> str:
    where = ", ".join(f"{v}={c!r}" for v, c in zip(function.variables, point, strict=True))
    return f"'{fname}' is undefined at the point ({where}): {problem}"
