"""The graph of a feedforward network, per example and over the batch, and of its training.

A ``network`` problem is turned into layers first (``network_spec``: the one-hidden-layer
shorthand is the layers [sigmoid hidden, linear or sigmoid output]), so one engine serves
both forms. Per example i and layer l = 1..L (nodes ``<problem>.<quantity>[i]``):

    a_l = W_l·[1; h_(l−1)]             pre-activation         ``preactivation.l``
    h_l = f_l(a_l),  h_0 = x           activation             ``activation.l``
    ŷ = h_L                                                    ``yhat``
    L = loss(ŷ, y)                                             ``loss``
    ∂L/∂ŷ                                                      ``dL_dyhat``
    δ_L = f_L′ᵀ·∂L/∂ŷ  (cross-entropy: ŷ − y in one step)     ``delta.L``
    δ_l = f_l′(a_l) ⊙ (W_(l+1)[:, 1:]ᵀ·δ_(l+1))               ``delta.l``
    ∂L/∂W_l = δ_l ⊗ [1; h_(l−1)]                               ``dW.l``

and for each ``[all]`` (stacked), ``[sum]`` and ``[mean]`` over the examples. With a
``training`` block: ``W_after.l`` (gradient descent from the given weights, computed from
the batch gradient nodes, so a student's own gradient carries into their step) and
``loss_after[i]`` (from every layer's ``W_after``). In the shorthand the nodes keep the
homework's names: ``hidden`` (activation.1), ``dW`` (dW.1), ``dv`` (dW.2, a vector), the
parameters ``W`` and ``v``, ``W_after`` and ``v_after``.

A ``NetworkVariant`` builds the same graph with one step done wrong, the way students do
it wrong (the mistakes grading recognises).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from grader.rubric.activations import ACTIVATIONS, LOSSES, Activation, Loss, sigmoid
from grader.rubric.models import NetworkAnswer, NetworkProblem, Training
from grader.rubric.quantities import QUANTITIES, SHORTHAND_NAMES
from grader.solver.graph import Graph

__all__ = [
    "NetworkSpec",
    "NetworkVariant",
    "answer_node_name",
    "build_network",
    "network_spec",
    "node_name",
    "sigmoid",
    "starting_weights",
]

Array = NDArray[np.float64]

Prime = Literal["correct", "wrong", "one", "preactivation"]


@dataclass(frozen=True)
class NetworkVariant:
    """How a graph departs from the correct one (the default is correct)."""

    flip_half: bool = False
    """Use the other squared-loss convention: ½(ŷ−y)² for (ŷ−y)², or the reverse."""
    no_bias: bool = False
    """Leave out the bias terms (and their gradient entries)."""
    hidden_prime: Prime = "correct"
    """At the hidden layers, the derivative replaced by the activation's common wrong
    one (σ for σ(1−σ), 1 − tanh for 1 − tanh², ...), dropped (1), or written in the
    activation with the pre-activation put for it (a(1 − a) for σ(a)(1 − σ(a)))."""
    hidden_activation: str | None = None
    """``hidden_prime`` only at hidden layers of this activation (None: every one)."""
    output_prime: Prime = "correct"
    """The same at the output layer."""
    drop_bias_entries: bool = False
    """Keep the biases in the forward pass but leave their gradient entries out
    (∂L/∂v without ∂L/∂v0, ∂L/∂W without the w_j0 column)."""
    dyhat_dz: Literal["v", "z"] = "v"
    """∂ŷ/∂z_j = v_j replaced by z_j below a single output unit."""
    transposed_layer: int = 0
    """This layer's (square) weight matrix used transposed, forward and backward."""
    no_input_factor: bool = False
    """∂L/∂W of a layer of matrix weights without the input factor: δ_j in every column
    instead of δ_j·h_k (x_k at the first layer)."""
    hidden_identity: bool = False
    """The hidden layers' activation left out of the forward pass (h = a where f(a)
    belongs), and so from there on: f′ written in h then comes out as a(1 − a)."""
    preactivation_below: bool = False
    """∂L/∂W_l (l ≥ 2; the shorthand's ∂L/∂v) with the layer below's pre-activations a
    where its activations h = f(a) belong."""
    step: Literal["correct", "uphill", "none", "other_batch"] = "correct"
    """The training step: W + η∇ (uphill), not taken, or on the mean where the sum is
    asked (or the sum where the mean is)."""


@dataclass(frozen=True)
class LayerSpec:
    units: int
    activation: Activation
    W: Array
    """The weights as the rubric stores them (the shorthand's v is a vector)."""
    param: str
    """The node holding the weights."""


@dataclass(frozen=True)
class NetworkSpec:
    """A network problem as layers, with its node names."""

    name: str
    inputs: int
    layers: tuple[LayerSpec, ...]
    loss: Loss
    half: bool
    examples: tuple[tuple[Array, Array], ...]
    """(x, y) per example; y has ŷ's shape (a number for one output unit)."""
    training: Training | None
    shorthand: bool

    @property
    def depth(self) -> int:
        return len(self.layers)

    @property
    def outputs(self) -> int:
        return self.layers[-1].units

    def quantity(self, quantity: str, layer: int) -> str:
        """The name of a per-layer quantity (the shorthand keeps the homework's names)."""
        if self.shorthand:
            known = SHORTHAND_NAMES.get((quantity, layer))
            if known is not None:
                return known
        return f"{quantity}.{layer}"

    def node(self, quantity: str, layer: int | None, selector: int | str | None) -> str:
        name = quantity if layer is None else self.quantity(quantity, layer)
        if selector is None:
            return f"{self.name}.{name}"
        return node_name(self.name, name, selector)


def node_name(problem: str, quantity: str, selector: int | str) -> str:
    return f"{problem}.{quantity}[{selector}]"


def network_spec(name: str, problem: NetworkProblem) -> NetworkSpec:
    """The problem as layers: the shorthand becomes [sigmoid hidden, linear/sigmoid output]."""
    if problem.layers is None:
        output = ACTIVATIONS[problem.output or "linear"]
        layers: tuple[LayerSpec, ...] = (
            LayerSpec(
                problem.hidden or 0,
                ACTIVATIONS["sigmoid"],
                np.array(problem.W, dtype=np.float64),
                f"{name}.W",
            ),
            LayerSpec(1, output, np.array(problem.v, dtype=np.float64), f"{name}.v"),
        )
    else:
        layers = tuple(
            LayerSpec(
                layer.units,
                ACTIVATIONS[layer.activation],
                np.array(layer.W, dtype=np.float64),
                f"{name}.W.{number}",
            )
            for number, layer in enumerate(problem.layers, start=1)
        )
    outputs = layers[-1].units
    examples = tuple(
        (np.array(example.x, dtype=np.float64), _target(example.y, outputs))
        for example in problem.examples
    )
    return NetworkSpec(
        name,
        problem.inputs,
        layers,
        LOSSES[problem.loss.kind],
        problem.loss.half,
        examples,
        problem.training,
        problem.layers is None,
    )


def _target(y: float | list[float], outputs: int) -> Array:
    """y in ŷ's shape: a number for one output, a class 1..K as its one-hot vector."""
    if isinstance(y, list):
        vector = np.array(y, dtype=np.float64)
        return vector.reshape(()) if outputs == 1 else vector
    if outputs == 1:
        return np.array(y, dtype=np.float64)
    onehot = np.zeros(outputs, dtype=np.float64)
    onehot[int(y) - 1] = 1.0
    return onehot


def answer_node_name(spec: NetworkSpec, answer: NetworkAnswer) -> str:
    """The graph node an answer of a network problem asks for."""
    quantity, layer, example = answer.quantity, answer.layer, answer.example
    if spec.shorthand and quantity in ("dW", "W_after") and layer == 2:
        # asked by layer: as a matrix of one row (the homework's dv / v_after as vectors)
        return spec.node(f"{quantity}.2.row", None, example)
    known = QUANTITIES[quantity]
    if known.shorthand_only:  # z, dv, v_after: the hidden layer's or the output layer's
        layer = 1 if known.shorthand_layer == 1 else spec.depth
    elif layer is None and known.shorthand_layer is not None:
        layer = known.shorthand_layer  # the shorthand's dW and W_after are the hidden layer's
    return spec.node(known.layered_as, layer, example)


def starting_weights(spec: NetworkSpec, answer: NetworkAnswer) -> str:
    """The parameter node of the weights a ``W_after``/``v_after`` answer starts from."""
    known = QUANTITIES[answer.quantity]
    layer = spec.depth if known.shorthand_only else answer.layer or 1
    return spec.layers[layer - 1].param


# --- one example's steps, with a variant's mistakes made ---------------------------------


class _Steps:
    """The computations of one network, each step a function of its graph inputs."""

    def __init__(self, spec: NetworkSpec, variant: NetworkVariant) -> None:
        self.spec = spec
        self.variant = variant
        self.bias = 0.0 if variant.no_bias else 1.0
        self.half = spec.half != variant.flip_half

    def matrix(self, layer: int, W: Array) -> Array:
        """Layer ``layer``'s weights as a matrix (units, below + 1), as the step uses them."""
        units = self.spec.layers[layer - 1].units
        matrix = np.asarray(W, dtype=np.float64).reshape(units, -1)
        if self.variant.transposed_layer == layer and matrix.shape[0] == matrix.shape[1]:
            return matrix.T
        return matrix

    def preactivation(self, layer: int, W: Array, below: Array) -> Array:
        matrix = self.matrix(layer, W)
        return np.asarray(self.bias * matrix[:, 0] + matrix[:, 1:] @ below, dtype=np.float64)

    def activation(self, layer: int, a: Array) -> Array:
        if self.variant.hidden_identity and layer < self.spec.depth:
            return np.asarray(a * 1.0, dtype=np.float64)
        return self.spec.layers[layer - 1].activation.forward(a)

    def yhat(self, h: Array) -> Array:
        return np.asarray(h.reshape(()) if self.spec.outputs == 1 else h, dtype=np.float64)

    @property
    def output_name(self) -> str:
        return self.spec.layers[-1].activation.name

    def loss(self, yhat: Array, a: Array, y: Array) -> Array:
        return self.spec.loss.value(yhat, a, y, self.half, self.output_name)

    def dL_dyhat(self, yhat: Array, a: Array, y: Array) -> Array:
        return self.spec.loss.gradient(yhat, a, y, self.half, self.output_name)

    @property
    def combined_delta(self) -> bool:
        """Is the output's δ the loss's own one-step formula (cross-entropy)?"""
        return self.spec.loss.output_delta is not None and self.variant.output_prime == "correct"

    def output_delta_combined(self, yhat: Array, a: Array, y: Array) -> Array:
        delta = self.spec.loss.output_delta
        if delta is None:  # pragma: no cover - guarded by combined_delta
            raise TypeError("the loss has no one-step output delta")
        return delta(yhat, a, y, self.output_name)

    def output_delta(self, dL: Array, a: Array, yhat: Array) -> Array:
        activation = self.spec.layers[-1].activation
        how = self.variant.output_prime if activation.name != "linear" else "correct"
        return activation.backward(a, np.ravel(yhat), np.ravel(dL), how)

    def hidden_delta(self, layer: int, above: Array, W_above: Array, a: Array, h: Array) -> Array:
        if self.variant.dyhat_dz == "z" and layer == self.spec.depth - 1 and above.size == 1:
            back = h * above[0]
        else:
            back = self.matrix(layer + 1, W_above)[:, 1:].T @ above
        activation = self.spec.layers[layer - 1].activation
        how: str = self.variant.hidden_prime
        if self.variant.hidden_activation not in (None, activation.name):
            how = "correct"
        return activation.backward(a, h, np.asarray(back, dtype=np.float64), how)

    def dW(self, layer: int, delta: Array, below: Array) -> Array:
        if self.variant.no_input_factor and self.spec.layers[layer - 1].W.ndim == 2:
            below = np.ones_like(below)
        if not (self.variant.no_bias or self.variant.drop_bias_entries):
            below = np.concatenate(([1.0], below))
        gradient = np.outer(delta, below)
        if self.variant.transposed_layer == layer and gradient.shape[0] == gradient.shape[1]:
            gradient = gradient.T  # the gradient of the matrix as the rubric writes it
        stored = self.spec.layers[layer - 1].W
        return np.asarray(gradient.ravel() if stored.ndim == 1 else gradient, dtype=np.float64)

    def step(self, W: Array, gradient: Array) -> Array:
        """One gradient-descent step of a layer's weights (biases kept where the gradient
        has no bias entries)."""
        eta = self.spec.training.learning_rate if self.spec.training else 0.0
        if self.variant.step == "none":
            return np.asarray(W * 1.0, dtype=np.float64)
        sign = 1.0 if self.variant.step == "uphill" else -1.0
        W = np.asarray(W, dtype=np.float64)
        if gradient.shape == W.shape:
            return np.asarray(W + sign * eta * gradient, dtype=np.float64)
        after = W.copy()
        after[..., 1:] = W[..., 1:] + sign * eta * gradient
        return after

    @property
    def batch(self) -> str:
        batch = self.spec.training.batch if self.spec.training else "sum"
        if self.variant.step == "other_batch":
            return "mean" if batch == "sum" else "sum"
        return batch

    # whole passes, for training beyond the first step and the loss after it

    def forward(self, weights: Sequence[Array], x: Array) -> tuple[list[Array], list[Array]]:
        """(pre-activations, activations h_0..h_L) of one example."""
        pre, act = [], [x]
        for layer, W in enumerate(weights, start=1):
            a = self.preactivation(layer, W, act[-1])
            pre.append(a)
            act.append(self.activation(layer, a))
        return pre, act

    def example_loss(self, weights: Sequence[Array], x: Array, y: Array) -> Array:
        pre, act = self.forward(weights, x)
        return self.loss(self.yhat(act[-1]), pre[-1], y)

    def gradients(self, weights: Sequence[Array], x: Array, y: Array) -> list[Array]:
        pre, act = self.forward(weights, x)
        yhat = self.yhat(act[-1])
        if self.combined_delta:
            delta = self.output_delta_combined(yhat, pre[-1], y)
        else:
            delta = self.output_delta(self.dL_dyhat(yhat, pre[-1], y), pre[-1], yhat)
        grads = [self.dW(len(weights), delta, act[-2])]
        for layer in range(len(weights) - 1, 0, -1):
            delta = self.hidden_delta(layer, delta, weights[layer], pre[layer - 1], act[layer])
            grads.insert(0, self.dW(layer, delta, act[layer - 1]))
        return grads

    def train(self, weights: Sequence[Array], steps: int) -> list[Array]:
        """``steps`` more full-batch steps from ``weights``."""
        current = [np.asarray(W, dtype=np.float64) for W in weights]
        count = len(self.spec.examples)
        for _ in range(steps):
            per = [self.gradients(current, x, y) for x, y in self.spec.examples]
            total = [np.sum(np.stack([g[k] for g in per]), axis=0) for k in range(len(current))]
            if self.batch == "mean":
                total = [g / count for g in total]
            current = [self.step(W, g) for W, g in zip(current, total, strict=True)]
        return current


# --- the graph ----------------------------------------------------------------------------


def build_network(
    graph: Graph, name: str, problem: NetworkProblem, variant: NetworkVariant | None = None
) -> NetworkSpec:
    """Add the nodes of ``problem`` to ``graph`` under the prefix ``name``."""
    spec = network_spec(name, problem)
    steps = _Steps(spec, variant or NetworkVariant())
    depth = spec.depth
    weights = [graph.param(layer.param, layer.W) for layer in spec.layers]
    per_example: dict[str, list[str]] = {}

    def add(quantity: str, layer: int | None, i: int, inputs: tuple[str, ...], f: object) -> str:
        node = spec.node(quantity, layer, i)
        graph.add(node, inputs, f)  # type: ignore[arg-type]
        key = quantity if layer is None else spec.quantity(quantity, layer)
        per_example.setdefault(key, []).append(node)
        return node

    for i, (x_value, y_value) in enumerate(spec.examples, start=1):
        x = graph.param(f"{name}.x[{i}]", x_value)
        y = graph.param(f"{name}.y[{i}]", y_value)
        pre: list[str] = []
        act: list[str] = [x]
        for layer in range(1, depth + 1):
            a = add(
                "preactivation",
                layer,
                i,
                (weights[layer - 1], act[-1]),
                lambda W, h, layer=layer: steps.preactivation(layer, W, h),
            )
            pre.append(a)
            h = add("activation", layer, i, (a,), lambda a, layer=layer: steps.activation(layer, a))
            act.append(h)
        out = add("yhat", None, i, (act[-1],), steps.yhat)
        add("loss", None, i, (out, pre[-1], y), steps.loss)
        dL = add("dL_dyhat", None, i, (out, pre[-1], y), steps.dL_dyhat)
        if steps.combined_delta:
            delta = add("delta", depth, i, (out, pre[-1], y), steps.output_delta_combined)
        else:
            delta = add("delta", depth, i, (dL, pre[-1], out), steps.output_delta)
        deltas = {depth: delta}
        for layer in range(depth - 1, 0, -1):
            deltas[layer] = add(
                "delta",
                layer,
                i,
                (deltas[layer + 1], weights[layer], pre[layer - 1], act[layer]),
                lambda d, W, a, h, layer=layer: steps.hidden_delta(layer, d, W, a, h),
            )
        for layer in range(1, depth + 1):
            # a student's mistake: the pre-activation below where its activation belongs
            below = pre[layer - 2] if steps.variant.preactivation_below and layer > 1 else None
            add(
                "dW",
                layer,
                i,
                (deltas[layer], below or act[layer - 1]),
                lambda d, h, layer=layer: steps.dW(layer, d, h),
            )

    for quantity, parts in per_example.items():
        _aggregates(graph, name, quantity, tuple(parts))
    if spec.shorthand:  # the output layer's gradient asked by layer: one row
        for selector in [*range(1, len(spec.examples) + 1), "all", "sum", "mean"]:
            source = spec.node("dW", 2, selector)
            graph.add(spec.node("dW.2.row", None, selector), (source,), _as_rows)
    if spec.training is not None:
        _training(graph, spec, steps, weights)
    return spec


def _training(graph: Graph, spec: NetworkSpec, steps: _Steps, weights: list[str]) -> None:
    """``W_after`` of every layer and ``loss_after`` of every example."""
    training = spec.training
    if training is None:  # pragma: no cover - checked by the caller
        return
    first = []
    for layer in range(1, spec.depth + 1):
        gradient = spec.node("dW", layer, steps.batch)
        target = spec.node("W_after", layer, None)
        node = target if training.steps == 1 else f"{target}:step1"
        graph.add(node, (weights[layer - 1], gradient), steps.step)
        first.append(node)
    if training.steps > 1:
        for layer in range(1, spec.depth + 1):
            graph.add(
                spec.node("W_after", layer, None),
                tuple(first),
                lambda *W, layer=layer: steps.train(W, training.steps - 1)[layer - 1],
            )
    after = tuple(spec.node("W_after", layer, None) for layer in range(1, spec.depth + 1))
    if spec.shorthand:
        graph.add(spec.node("W_after.2.row", None, None), (after[1],), _as_rows)
    parts = []
    for i in range(1, len(spec.examples) + 1):
        node = spec.node("loss_after", None, i)
        graph.add(
            node,
            (*after, f"{spec.name}.x[{i}]", f"{spec.name}.y[{i}]"),
            lambda *values: steps.example_loss(values[:-2], values[-2], values[-1]),
        )
        parts.append(node)
    _aggregates(graph, spec.name, "loss_after", tuple(parts))


def _aggregates(graph: Graph, name: str, quantity: str, parts: tuple[str, ...]) -> None:
    graph.add(node_name(name, quantity, "all"), parts, _stack, parts=parts)
    graph.add(node_name(name, quantity, "sum"), parts, _sum)
    graph.add(node_name(name, quantity, "mean"), parts, _mean)


def _as_rows(value: Array) -> Array:
    """A vector-stored layer's value as a matrix of one row (per example, if stacked)."""
    value = np.asarray(value, dtype=np.float64)
    return value.reshape(*value.shape[:-1], 1, value.shape[-1])


def _stack(*values: Array) -> Array:
    return np.stack(values)


def _sum(*values: Array) -> Array:
    return np.asarray(np.sum(np.stack(values), axis=0), dtype=np.float64)


def _mean(*values: Array) -> Array:
    return np.asarray(np.mean(np.stack(values), axis=0), dtype=np.float64)
