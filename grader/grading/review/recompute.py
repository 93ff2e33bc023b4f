"""Recomputing answers on the solver's graph, once per answer key.

A careful grader asks two questions of a wrong answer: would it be right had the
student's own earlier answers been right (error carried forward), and is it what a known
mistake of method gives (the ½ of the loss flipped, the bias left out, σ used for σ′)?
Both are recomputations of the answer's node: the first on the key's graph with some
ancestors replaced by the student's values, the second on the same graph built with a
``NetworkVariant``. ``for_key`` builds those graphs once per ``AnswerKey`` and batch
(``grader.memo``); a recomputation under overrides redoes only the nodes downstream of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from grader.memo import Memo, Table
from grader.rubric.activations import ACTIVATIONS
from grader.rubric.models import NetworkAnswer, NetworkProblem
from grader.solver.graph import Graph, Value
from grader.solver.key import AnswerKey, Expressions, build_graph
from grader.solver.network import NetworkSpec, NetworkVariant, network_spec

MistakeCode = Literal[
    "factor_two",
    "missing_bias",
    "wrong_derivative",
    "weights_transposed",
    "step_uphill",
    "no_step",
    "mean_for_sum",
    "sum_for_mean",
    "missing_input_factor",
    "preactivation_for_activation",
]


@dataclass(frozen=True)
class Mistake:
    """A mistake of method: its diagnosis code and the network it builds.

    ``name`` says which (``loss_half``, ``hidden_wrong:tanh``, ``output_one``,
    ``transposed:2``, ...): the part after ``:`` names the activation or layer."""

    name: str
    code: MistakeCode
    variant: NetworkVariant
    zeros_are_evidence: bool = False
    """The mistake gives exact zeros where the right value is not ~0 (a softmax δ with
    only its Jacobian's diagonal is 0 off the target class): those zeros are evidence."""

    @property
    def detail(self) -> str:
        return self.name.partition(":")[2]


def mistakes_for(networks: Sequence[NetworkSpec]) -> tuple[Mistake, ...]:
    """Every mistake of method these networks can show, in the order they are tried:
    the loss's ½ (squared loss), the bias, each hidden activation's wrong derivative and
    the derivative left out, the output's, ∂ŷ/∂z, a square layer used transposed, and
    the training step's."""
    found = [Mistake("loss_half", "factor_two", NetworkVariant(flip_half=True))]
    found.append(Mistake("no_bias", "missing_bias", NetworkVariant(no_bias=True)))
    found.append(Mistake("bias_entries", "missing_bias", NetworkVariant(drop_bias_entries=True)))
    hidden = [layer.activation for spec in networks for layer in spec.layers[:-1]]
    kinds = list(dict.fromkeys(each.name for each in hidden if each.wrong is not None))
    for kind in kinds:
        only = kind if len(kinds) > 1 else None  # one kind: every hidden layer has it
        variant = NetworkVariant(hidden_prime="wrong", hidden_activation=only)
        zeros = ACTIVATIONS[kind].wrong_zeros
        found.append(Mistake(f"hidden_wrong:{kind}", "wrong_derivative", variant, zeros))
    if any(each.name != "linear" for each in hidden):
        found.append(Mistake("hidden_one", "wrong_derivative", NetworkVariant(hidden_prime="one")))
    outputs = {spec.layers[-1].activation.name for spec in networks} - {"linear"}
    if outputs:
        hows: tuple[Literal["wrong"], Literal["one"]] = ("wrong", "one")
        for how in hows:
            variant = NetworkVariant(output_prime=how)
            zeros = how == "wrong" and any(ACTIVATIONS[name].wrong_zeros for name in outputs)
            found.append(Mistake(f"output_{how}", "wrong_derivative", variant, zeros))
    found.append(Mistake("dyhat_dz", "wrong_derivative", NetworkVariant(dyhat_dz="z")))
    found.append(Mistake("no_input", "missing_input_factor", NetworkVariant(no_input_factor=True)))
    # the pre-activation a for f(a): below ∂L/∂W_l (∂L/∂v), and in f′ written in f(a)
    shaped = [each for each in hidden if each.name not in ("linear", "relu")]
    if shaped:
        variant = NetworkVariant(preactivation_below=True)
        found.append(Mistake("preactivation_below", "preactivation_for_activation", variant))
        variant = NetworkVariant(hidden_prime="preactivation")
        found.append(Mistake("preactivation_hidden", "preactivation_for_activation", variant))
        variant = NetworkVariant(hidden_identity=True)  # from the forward pass on: last
        found.append(Mistake("preactivation_forward", "preactivation_for_activation", variant))
    if outputs - {"relu", "softmax"}:
        variant = NetworkVariant(output_prime="preactivation")
        found.append(Mistake("preactivation_output", "preactivation_for_activation", variant))
    depth = max(spec.depth for spec in networks)
    for layer in range(1, depth + 1):
        square = any(
            spec.depth >= layer
            and spec.layers[layer - 1].W.ndim == 2
            and spec.layers[layer - 1].W.shape[0] == spec.layers[layer - 1].W.shape[1]
            for spec in networks
        )
        if square and any(not spec.shorthand for spec in networks):
            variant = NetworkVariant(transposed_layer=layer)
            found.append(Mistake(f"transposed:{layer}", "weights_transposed", variant))
    if any(spec.training is not None for spec in networks):
        found.append(Mistake("step_uphill", "step_uphill", NetworkVariant(step="uphill")))
        found.append(Mistake("no_step", "no_step", NetworkVariant(step="none")))
        # the other batch than the training's: the mean for the sum, or the sum for the mean
        batches = {spec.training.batch for spec in networks if spec.training is not None}
        code: MistakeCode = "sum_for_mean" if batches == {"mean"} else "mean_for_sum"
        found.append(Mistake(code, code, NetworkVariant(step="other_batch")))
    return tuple(found)


class Recomputer:
    """A graph with each node's value computed once; recomputing a node under overrides
    starts from those values and redoes only what lies downstream of the overrides."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.values: dict[str, Value] = {}
        self._children: dict[str, list[str]] = {}
        for node in graph.nodes.values():
            for each in node.inputs:
                self._children.setdefault(each, []).append(node.name)
        self._downstream: dict[str, frozenset[str]] = {}
        self._upstream: dict[str, tuple[str, ...]] = {}
        self._depth: dict[str, int] = {}
        self._recomputed: dict[tuple[str, bytes], Value] = {}
        self._recomputed_bytes = 0

    def value(self, node: str) -> Value:
        """The node's own value (no overrides), memoised."""
        if node not in self.values:
            with np.errstate(all="ignore"):
                self.graph.evaluate(node, memo=self.values)
        return self.values[node]

    def downstream(self, name: str) -> frozenset[str]:
        """Every node computed from ``name``, directly or not."""
        found = self._downstream.get(name)
        if found is None:
            seen: set[str] = set()
            stack = list(self._children.get(name, ()))
            while stack:
                current = stack.pop()
                if current not in seen:
                    seen.add(current)
                    stack.extend(self._children.get(current, ()))
            found = self._downstream[name] = frozenset(seen)
        return found

    def ancestors(self, node: str) -> tuple[str, ...]:
        """Every node ``node`` is computed from, memoised."""
        found = self._upstream.get(node)
        if found is None:
            found = self._upstream[node] = tuple(self.graph.ancestors(node))
        return found

    def depth(self, node: str) -> int:
        """Steps from the parameters to ``node``; a stacked node is as deep as its parts."""
        found = self._depth.get(node)
        if found is None:
            spec = self.graph.nodes[node]
            if spec.parts:
                found = max(self.depth(each) for each in spec.parts)
            elif spec.inputs:
                found = 1 + max(self.depth(each) for each in spec.inputs)
            else:
                found = 0
            self._depth[node] = found
        return found

    def fits(self, node: str, value: Value) -> bool:
        """Can ``value`` stand in for ``node`` here (same shape as the node's own value)?"""
        return node in self.graph and np.shape(self.value(node)) == np.shape(value)

    def evaluate(self, node: str, overrides: Mapping[str, Value]) -> Value:
        """``node`` recomputed with ``overrides`` in place of those nodes' values (read-only;
        remembered, see ``RECOMPUTED_BYTES``)."""
        if not overrides:
            return self.value(node)
        slot = _slot(node, overrides)
        if slot is not None:
            found = self._recomputed.get(slot)
            if found is not None:
                return found
        value = self._evaluate(node, overrides)
        if slot is not None and isinstance(value, np.ndarray | np.generic | float):
            size = len(slot[1]) + np.asarray(value).nbytes
            if size <= RECOMPUTED_BYTES // 64:  # a huge one is not worth keeping
                if self._recomputed_bytes + size > RECOMPUTED_BYTES:
                    self._recomputed.clear()
                    self._recomputed_bytes = 0
                if isinstance(value, np.ndarray):
                    value.flags.writeable = False
                self._recomputed[slot] = value
                self._recomputed_bytes += size
        return value

    def _evaluate(self, node: str, overrides: Mapping[str, Value]) -> Value:
        self.value(node)
        expanded = self.graph.expand(overrides)
        affected: set[str] = set()
        for name in expanded:
            affected |= self.downstream(name)
        memo = {name: self.values[name] for name in self.ancestors(node) if name not in affected}
        with np.errstate(all="ignore"):
            return self.graph.evaluate(node, overrides, memo=memo)


# Performance (profile of `grade`): carried-forward credit and the mistakes of method
# recompute an answer from the student's wrong earlier answers, a few milliseconds each;
# a class carries the same few wrong values forward into many later answers. A
# recomputation is remembered on the overrides' bytes, up to this many bytes of keys and
# values per graph (then forgotten all at once, and refilled as needed).
RECOMPUTED_BYTES = 8 * 1024 * 1024


def _slot(node: str, overrides: Mapping[str, Value]) -> tuple[str, bytes] | None:
    """What a recomputation is remembered on: the node and the overrides' names, shapes
    and bytes (None where an override is not an array of floats)."""
    parts: list[bytes] = []
    for name, value in sorted(overrides.items()):
        if not isinstance(value, np.ndarray) or value.dtype != np.float64:
            return None
        parts += [name.encode(), b"\0", repr(value.shape).encode(), b"\0", value.tobytes()]
    return node, b"\1".join(parts)


@dataclass
class KeyGraphs:
    """What analysis needs of one answer key, built once: the key's graph, the graph of
    each mistake of method, and each answer's earlier answers."""

    key: AnswerKey
    base: Recomputer
    mistakes: tuple[tuple[Mistake, Recomputer], ...]
    earlier: dict[str, tuple[str, ...]]
    cache: dict[str, object] = field(default_factory=dict)
    """Per-answer results of other modules (their static alternatives), keyed by them."""


_GRAPHS: Table[int, KeyGraphs] = Table("key graphs", 64)


def for_key(key: AnswerKey, memo: Memo) -> KeyGraphs:
    """The ``KeyGraphs`` of ``key``, built once per batch (``memo``) and key."""
    cached = memo.get(_GRAPHS, id(key))
    if cached is not None and cached.key is key:
        return cached
    graphs = _build(key)
    memo.put(_GRAPHS, id(key), graphs)  # the graphs keep the key alive: its id is not reused
    return graphs


def _build(key: AnswerKey) -> KeyGraphs:
    networks = {
        name: network_spec(name, problem)
        for name, problem in key.rubric.problems.items()
        if isinstance(problem, NetworkProblem)
    }
    asked = any(isinstance(entry.answer, NetworkAnswer) for entry in key)
    mistakes: list[tuple[Mistake, Recomputer]] = []
    if networks and asked:
        for mistake in mistakes_for(list(networks.values())):
            graph, _ = build_graph(key.rubric, {name: mistake.variant for name in networks})
            mistakes.append((mistake, Recomputer(graph)))
    return KeyGraphs(key, Recomputer(key.graph), tuple(mistakes), earlier_answers(key))


def earlier_answers(key: AnswerKey) -> dict[str, tuple[str, ...]]:
    """For each answer id, the numeric answers its node is computed from: those whose
    node, or one of whose stacked parts, is among the node's ancestors."""
    graph = key.graph
    numeric = [entry for entry in key if not isinstance(entry.expected, Expressions)]
    found: dict[str, tuple[str, ...]] = {}
    for entry in key:
        ancestors = graph.ancestors(entry.node)
        found[entry.answer.id] = tuple(
            other.answer.id
            for other in numeric
            if other.answer.id != entry.answer.id
            and (
                other.node in ancestors
                or any(part in ancestors for part in graph.nodes[other.node].parts)
            )
        )
    return found
