"""The graph of functions written as expressions: gradients, Jacobians, compositions.

Derivatives are exact: ``expr.diff`` differentiates the parsed tree symbolically, and
numbers come from evaluating those derivative trees at the point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from grader.rubric.models import FunctionDef, FunctionsProblem
from grader.solver import expr
from grader.solver.graph import Graph

Array = NDArray[np.float64]


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

    def value(self, point: Array) -> Array:
        env = dict(zip(self.variables, (float(c) for c in point), strict=True))
        values = np.array([float(expr.evaluate(each, env)) for each in self.outputs])
        return values[0] if self.scalar else values

    def jacobian_exprs(self) -> tuple[tuple[expr.Expr, ...], ...]:
        return tuple(tuple(expr.diff(out, var) for var in self.variables) for out in self.outputs)

    def jacobian(self, point: Array) -> Array:
        """Rows are outputs, columns variables; a scalar function gives its gradient (n,)."""
        env = dict(zip(self.variables, (float(c) for c in point), strict=True))
        rows = [[float(expr.evaluate(d, env)) for d in row] for row in self.jacobian_exprs()]
        matrix = np.array(rows, dtype=np.float64)
        return matrix[0] if self.scalar else matrix


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
        out_shape = () if ofunc.scalar else (len(ofunc.outputs),)
        in_shape = () if len(ifunc.variables) == 1 else (len(ifunc.variables),)
        return np.asarray(product.reshape(out_shape + in_shape), dtype=np.float64)

    graph.add(node, (outer_jac, inner_jac), chain)
    return node
