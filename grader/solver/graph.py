"""A computation graph of named quantities, each computed from the ones it depends on.

The reference solver builds one graph per rubric (the homework's own computation graph:
ŷ from the hidden activations, ∂L/∂ŷ from ŷ, ∂L/∂v from ∂L/∂ŷ, ...). Grading walks the
same graph: ``evaluate(name, overrides)`` recomputes a node with some of its ancestors
replaced, e.g. by a student's own earlier answers (error carried forward).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Value = Any
"""A node's value: a float64 ``numpy`` array (0-d for a scalar) or ``Expressions``."""


@dataclass(frozen=True, slots=True)
class Node:
    """A named quantity: a parameter (``compute is None``) or a function of its inputs.

    A node with ``parts`` stacks those nodes' values (e.g. ŷ for every example); giving
    it a value in ``overrides`` gives each part its entry.
    """

    name: str
    inputs: tuple[str, ...] = ()
    compute: Callable[..., Value] | None = None
    value: Value = None
    parts: tuple[str, ...] = ()


@dataclass
class Graph:
    """Nodes by name, with memoised evaluation under optional overrides."""

    nodes: dict[str, Node] = field(default_factory=dict)

    def param(self, name: str, value: Value) -> str:
        self.nodes[name] = Node(name, value=value)
        return name

    def add(
        self,
        name: str,
        inputs: tuple[str, ...],
        compute: Callable[..., Value],
        *,
        parts: tuple[str, ...] = (),
    ) -> str:
        missing = [each for each in inputs if each not in self.nodes]
        if missing:
            raise KeyError(f"node {name} depends on unknown nodes {missing}")
        self.nodes[name] = Node(name, inputs, compute, parts=parts)
        return name

    def __contains__(self, name: object) -> bool:
        return name in self.nodes

    def ancestors(self, name: str) -> set[str]:
        """Every node ``name`` depends on, directly or not (itself excluded)."""
        seen: set[str] = set()
        stack = list(self.nodes[name].inputs)
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(self.nodes[current].inputs)
        return seen

    def expand(self, overrides: Mapping[str, Value]) -> dict[str, Value]:
        """Overrides of stacked nodes become overrides of their parts, entry by entry."""
        expanded: dict[str, Value] = {}
        for name, value in overrides.items():
            node = self.nodes[name]
            expanded[name] = value
            for index, part in enumerate(node.parts):
                expanded[part] = value[index]
        return expanded

    def evaluate(
        self,
        name: str,
        overrides: Mapping[str, Value] | None = None,
        *,
        memo: dict[str, Value] | None = None,
    ) -> Value:
        """The value of ``name``, computing what it needs; ``overrides`` replace nodes."""
        values = memo if memo is not None else {}
        if overrides:
            values.update(self.expand(overrides))
        # Iterative post-order walk: graphs are shallow, but no recursion is cheaper still.
        stack: list[tuple[str, bool]] = [(name, False)]
        while stack:
            current, ready = stack.pop()
            if current in values:
                continue
            node = self.nodes[current]
            if node.compute is None:
                values[current] = node.value
                continue
            if ready:
                values[current] = node.compute(*(values[each] for each in node.inputs))
                continue
            stack.append((current, True))
            stack.extend((each, False) for each in node.inputs if each not in values)
        return values[name]
