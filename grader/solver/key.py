"""The answer key: each answer id bound to its node of the solver's graph and its value."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from grader.errors import RubricError
from grader.rubric.models import (
    Answer,
    CompositionAnswer,
    FunctionsProblem,
    GradientAnswer,
    Grading,
    HessianAnswer,
    JacobianAnswer,
    NetworkAnswer,
    NetworkProblem,
    Rubric,
    ValueAnswer,
)
from grader.rubric.quantities import QUANTITIES
from grader.solver.functions import (
    Expressions,
    ParsedFunction,
    answer_problem,
    build_functions,
    composition_node,
    hessian_node,
    jacobian_node,
    value_node,
)
from grader.solver.graph import Graph, Value
from grader.solver.network import (
    NetworkSpec,
    NetworkVariant,
    answer_node_name,
    build_network,
    starting_weights,
)

__all__ = ["AnswerKey", "Expressions", "KeyEntry", "solve"]


@dataclass(frozen=True, eq=False)
class KeyEntry:
    """One answer of the key: the rubric's answer, its graph node, the expected value."""

    answer: Answer
    node: str
    expected: Value
    grading: Grading
    start: Value = None
    """For weights after training: the weights before it, in the shape of ``expected``
    (an entry is right only nearer to ``expected`` than to these)."""

    @functools.cached_property
    def shape(self) -> tuple[int, ...]:
        if isinstance(self.expected, Expressions):
            return (len(self.expected.exprs),)
        return tuple(np.shape(self.expected))

    @functools.cached_property
    def size(self) -> int:
        """How many entries the answer has."""
        return math.prod(self.shape)

    @functools.cached_property
    def flat_expected(self) -> tuple[float, ...]:
        """The expected numbers, row by row (empty for expressions)."""
        if isinstance(self.expected, Expressions):
            return ()
        return tuple(np.asarray(self.expected, dtype=np.float64).ravel().tolist())

    @functools.cached_property
    def plain_expected(self) -> Any:
        """``to_plain(expected)``, computed once: every student's result carries it."""
        return to_plain(self.expected)


class PerStudent(Protocol):
    """The answer key of a student's own variant (``grader.variants.keys.VariantKeys``)."""

    def __call__(self, student_id: str) -> AnswerKey: ...


@dataclass(frozen=True)
class AnswerKey:
    """Every answer of a rubric, computed at float64 precision, with the graph behind it.

    A rubric with a ``variants`` block gives each student their own key: ``per_student``
    (set by ``grader.variants.keys.answer_key``) makes it, and ``for_student`` asks it;
    without variants every student has this key.
    """

    rubric: Rubric
    graph: Graph
    entries: dict[str, KeyEntry]
    per_student: PerStudent | None = None

    def for_student(self, student_id: str) -> AnswerKey:
        """The key this student is graded against."""
        if self.per_student is None:
            return self
        return self.per_student(student_id)

    def __getitem__(self, answer_id: str) -> KeyEntry:
        return self.entries[answer_id]

    def __iter__(self) -> Any:
        return iter(self.entries.values())

    def to_json(self) -> dict[str, Any]:
        """``{id: value}``: numbers as floats (full precision), expressions as strings."""
        return {entry.answer.id: to_plain(entry.expected) for entry in self}


def to_plain(value: Value) -> Any:
    if isinstance(value, Expressions):
        return value.texts
    array = np.asarray(value, dtype=np.float64) + 0.0  # + 0.0 turns -0.0 into 0.0
    return array.tolist() if array.ndim else float(array)


@dataclass(frozen=True)
class Problems:
    """What the graph was built from: each network as layers, each function parsed."""

    networks: dict[str, NetworkSpec]
    functions: dict[str, dict[str, ParsedFunction]]

    def __getitem__(self, name: str) -> dict[str, ParsedFunction]:
        return self.functions[name]


def build_graph(
    rubric: Rubric, variants: dict[str, NetworkVariant] | None = None
) -> tuple[Graph, Problems]:
    """The graph of every problem; ``variants`` builds named network problems wrong."""
    graph = Graph()
    networks: dict[str, NetworkSpec] = {}
    functions: dict[str, dict[str, ParsedFunction]] = {}
    for name, problem in rubric.problems.items():
        if isinstance(problem, NetworkProblem):
            networks[name] = build_network(graph, name, problem, (variants or {}).get(name))
        elif isinstance(problem, FunctionsProblem):
            functions[name] = build_functions(graph, name, problem)
    return graph, Problems(networks, functions)


def answer_node(graph: Graph, problems: Problems, answer: Answer) -> str:
    """The graph node an answer asks for (adding point-wise nodes as needed)."""
    if isinstance(answer, NetworkAnswer):
        return answer_node_name(problems.networks[answer.problem], answer)
    parsed = problems.functions[answer.problem]
    if isinstance(answer, GradientAnswer):
        return f"{answer.problem}.gradient[{answer.function}]"
    if isinstance(answer, JacobianAnswer):
        return jacobian_node(
            graph, answer.problem, answer.function, parsed[answer.function], answer.at
        )
    if isinstance(answer, HessianAnswer):
        return hessian_node(
            graph, answer.problem, answer.function, parsed[answer.function], answer.at
        )
    if isinstance(answer, ValueAnswer):
        return value_node(
            graph, answer.problem, answer.function, parsed[answer.function], answer.at
        )
    if isinstance(answer, CompositionAnswer):
        return composition_node(
            graph,
            answer.problem,
            (answer.outer, parsed[answer.outer]),
            (answer.inner, parsed[answer.inner]),
            answer.at,
        )
    raise TypeError(f"unknown answer kind {type(answer).__name__}")  # unreachable: validated


def solve(rubric: Rubric, *, source: str = "<rubric>") -> AnswerKey:
    """Compute every answer the rubric names, from its parameters alone.

    A point outside the domain of what an answer asks for (``log`` of a negative there, a
    division by zero) refuses the rubric: ``RubricError`` naming ``source``, the answer's
    key path, the function, the point, what is undefined, the answer id and the problem."""
    graph, problems = build_graph(rubric)
    for index, answer in enumerate(rubric.answers):
        if not isinstance(answer, NetworkAnswer | GradientAnswer):
            problem = answer_problem(problems.functions[answer.problem], answer)
            if problem is not None:
                where = f"answer '{answer.id}' of problem '{answer.problem}'"
                raise RubricError(f"{problem} ({where})", path=source, key=f"answers[{index}].at")
    entries: dict[str, KeyEntry] = {}
    memo: dict[str, Value] = {}
    for index, answer in enumerate(rubric.answers):
        node = answer_node(graph, problems, answer)
        expected = graph.evaluate(node, memo=memo)
        start = None
        if isinstance(answer, NetworkAnswer) and QUANTITIES[answer.quantity].after_step:
            start = np.reshape(
                graph.evaluate(starting_weights(problems.networks[answer.problem], answer)),
                np.shape(expected),
            )
        entries[answer.id] = KeyEntry(answer, node, expected, rubric.grading_for(answer), start)
        names = answer.entries
        if names is not None and len(names) != entries[answer.id].size:
            raise RubricError(
                f"names {len(names)} entr{'y' if len(names) == 1 else 'ies'}, but "
                f"{answer.id} has {entries[answer.id].size} (shape "
                f"{entries[answer.id].shape}): give one name per entry, row by row",
                path=source,
                key=f"answers[{index}].entries",
            )
    return AnswerKey(rubric, graph, entries)
