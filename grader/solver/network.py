"""The graph of a one-hidden-layer sigmoid network, per example and over the batch.

Per example i (nodes named ``<problem>.<quantity>[i]``):

    z = σ(W·[1, x])                      hidden activations        ``hidden``
    ŷ = g(v·[1, z])                      g = identity or σ          ``yhat``
    L = c·(ŷ − y)²                       c = 1 or ½                 ``loss``
    ∂L/∂ŷ = 2c·(ŷ − y)                                              ``dL_dyhat``
    ∂L/∂v = ∂L/∂ŷ · g′ · [1, z]                                     ``dv``
    ∂L/∂W = (∂L/∂ŷ · g′ · v[1:] ⊙ σ′) ⊗ [1, x]                      ``dW``

and for each quantity ``[all]`` (stacked), ``[sum]`` and ``[mean]`` over the examples.
A ``NetworkVariant`` builds the same graph with one step done wrong, the way students
do it wrong (the mistakes grading recognises).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from grader.rubric.models import NetworkProblem
from grader.solver.graph import Graph

Array = NDArray[np.float64]

QUANTITIES = ("hidden", "yhat", "loss", "dL_dyhat", "dv", "dW")


@dataclass(frozen=True)
class NetworkVariant:
    """How a graph departs from the correct one (the default is correct)."""

    flip_half: bool = False
    """Use the other loss convention: ½(ŷ−y)² for (ŷ−y)², or the reverse."""
    no_bias: bool = False
    """Leave out the bias terms v0 and w_j0 (and their gradient entries)."""
    hidden_prime: Literal["correct", "sigma", "one", "preactivation"] = "correct"
    """σ′(s) = σ(1−σ) replaced by σ, dropped (1), or written s(1 − s) with the
    pre-activation s for σ(s), at the hidden units."""
    output_prime: Literal["correct", "sigma", "one", "preactivation"] = "correct"
    """The same at a sigmoid output."""
    drop_bias_entries: bool = False
    """Keep the biases in the forward pass but leave their gradient entries out
    (∂L/∂v without ∂L/∂v0, ∂L/∂W without the w_j0 column)."""
    dyhat_dz: Literal["v", "z"] = "v"
    """∂ŷ/∂z_j = v_j replaced by z_j in ∂L/∂W."""
    no_input_factor: bool = False
    """∂L/∂W without the input factor: δ_j in every column instead of δ_j·x_k."""
    preactivation_in_dv: bool = False
    """∂L/∂v with the hidden pre-activations a_j = w_j·[1, x] where z_j = σ(a_j) belongs."""


def sigmoid(s: Array) -> Array:
    """The logistic function, computed without overflow for any float64."""
    return np.exp(-np.logaddexp(0.0, -s))


def _prime(a: Array, how: str) -> Array:
    if how == "sigma":
        return a
    if how == "one":
        return np.ones_like(a)
    if how == "preactivation":  # σ(s)(1 − σ(s)) written with s for σ(s)
        a = _logit(a)
    return a * (1.0 - a)


def _logit(z: Array) -> Array:
    """The pre-activation s with σ(s) = z (the inverse of the sigmoid)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.log(z) - np.log1p(-z), dtype=np.float64)


def node_name(problem: str, quantity: str, selector: int | str) -> str:
    return f"{problem}.{quantity}[{selector}]"


def build_network(
    graph: Graph, name: str, problem: NetworkProblem, variant: NetworkVariant | None = None
) -> None:
    """Add the nodes of ``problem`` to ``graph`` under the prefix ``name``."""
    variant = variant or NetworkVariant()
    half = problem.loss.half != variant.flip_half
    factor = 1.0 if half else 2.0
    sigmoid_out = problem.output == "sigmoid"
    bias = 0.0 if variant.no_bias else 1.0

    W = graph.param(f"{name}.W", np.array(problem.W, dtype=np.float64))
    v = graph.param(f"{name}.v", np.array(problem.v, dtype=np.float64))

    def hidden(W: Array, x: Array) -> Array:
        return sigmoid(bias * W[:, 0] + W[:, 1:] @ x)

    def yhat(v: Array, z: Array) -> Array:
        s = bias * v[0] + v[1:] @ z
        return sigmoid(s) if sigmoid_out else np.asarray(s, dtype=np.float64)

    def loss(yhat: Array, y: Array) -> Array:
        return np.asarray(factor / 2.0 * (yhat - y) ** 2, dtype=np.float64)

    def dL_dyhat(yhat: Array, y: Array) -> Array:
        return np.asarray(factor * (yhat - y), dtype=np.float64)

    def out_prime(yhat: Array) -> Array:
        return _prime(yhat, variant.output_prime) if sigmoid_out else np.ones_like(yhat)

    def with_bias(values: Array) -> Array:
        if variant.no_bias or variant.drop_bias_entries:
            return values
        return np.concatenate(([1.0], values))

    def dv(dL: Array, yhat: Array, z: Array) -> Array:
        units = _logit(z) if variant.preactivation_in_dv else z
        return np.asarray(dL * out_prime(yhat) * with_bias(units), dtype=np.float64)

    def dW(dL: Array, yhat: Array, v: Array, z: Array, x: Array) -> Array:
        dyhat_dz = z if variant.dyhat_dz == "z" else v[1:]
        delta = dL * out_prime(yhat) * dyhat_dz * _prime(z, variant.hidden_prime)
        inputs = np.ones_like(x) if variant.no_input_factor else x
        return np.asarray(np.outer(delta, with_bias(inputs)), dtype=np.float64)

    per_example: dict[str, list[str]] = {quantity: [] for quantity in QUANTITIES}
    for i, example in enumerate(problem.examples, start=1):
        x = graph.param(f"{name}.x[{i}]", np.array(example.x, dtype=np.float64))
        y = graph.param(f"{name}.y[{i}]", np.array(example.y, dtype=np.float64))
        z = graph.add(node_name(name, "hidden", i), (W, x), hidden)
        out = graph.add(node_name(name, "yhat", i), (v, z), yhat)
        graph.add(node_name(name, "loss", i), (out, y), loss)
        dL = graph.add(node_name(name, "dL_dyhat", i), (out, y), dL_dyhat)
        graph.add(node_name(name, "dv", i), (dL, out, z), dv)
        graph.add(node_name(name, "dW", i), (dL, out, v, z, x), dW)
        for quantity in QUANTITIES:
            per_example[quantity].append(node_name(name, quantity, i))

    for quantity, parts in per_example.items():
        graph.add(node_name(name, quantity, "all"), tuple(parts), _stack, parts=tuple(parts))
        graph.add(node_name(name, quantity, "sum"), tuple(parts), _sum)
        graph.add(node_name(name, quantity, "mean"), tuple(parts), _mean)


def _stack(*values: Array) -> Array:
    return np.stack(values)


def _sum(*values: Array) -> Array:
    return np.asarray(np.sum(np.stack(values), axis=0), dtype=np.float64)


def _mean(*values: Array) -> Array:
    return np.asarray(np.mean(np.stack(values), axis=0), dtype=np.float64)
