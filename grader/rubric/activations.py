"""The activations and losses a network may use: one table each, one entry per name.

An entry holds everything the rest of the grader needs to know of it: its function, its
derivative (computed stably from the pre-activation, and as students write it, from the
activation), its symbols for feedback, and its common wrong derivative (a named mistake,
``wrong_derivative``). The rubric accepts exactly the names of these tables; the solver
builds the key's graph from them; grading words its diagnoses with their symbols. Adding
an activation or a loss is adding one entry here.

Stability (the key is exact to float64 rounding, saturated units included): σ′(a) is
σ(a)·σ(−a), never σ(1 − σ) by subtraction where σ is near 1; tanh′(a) = 4t/(1 + t)², t = e^(−2|a|);
softmax and cross-entropy go through log-sum-exp; ReLU's derivative is an exact 0 or 1
(0 at a = 0). Each derivative *given the activation* (``from_output``) is what a student
computes from their own value of h (h(1 − h), 1 − h²): the solver uses it where the
activation it is given is not the key's own (a student's, carried forward).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def sigmoid(a: Array) -> Array:
    """The logistic function, computed without overflow for any float64."""
    return np.asarray(np.exp(-np.logaddexp(0.0, -a)), dtype=np.float64)


def _sigmoid_prime(a: Array) -> Array:
    """σ(a)·σ(−a). Where σ(a) ≤ ¾, σ(a)·(1 − σ(a)) is as accurate (1 − σ(a) loses no
    digits there) and is what the key has always computed: it is kept, bit for bit."""
    s = sigmoid(a)
    return np.asarray(np.where(s <= 0.75, s * (1.0 - s), s * sigmoid(-a)), dtype=np.float64)


def _tanh_prime(a: Array) -> Array:
    t = np.exp(-2.0 * np.abs(a))
    return np.asarray(4.0 * t / (1.0 + t) ** 2, dtype=np.float64)


def _step(a: Array) -> Array:
    return np.asarray(np.where(a > 0, 1.0, 0.0), dtype=np.float64)


def _ones(a: Array) -> Array:
    return np.ones_like(np.asarray(a, dtype=np.float64))


def softmax(a: Array) -> Array:
    """exp(a_k − logsumexp(a)): no overflow, and entries that underflow are exact zeros."""
    a = np.asarray(a, dtype=np.float64)
    return np.asarray(np.exp(a - logsumexp(a)), dtype=np.float64)


def logsumexp(a: Array) -> Array:
    top = np.max(a)
    return np.asarray(top + np.log(np.sum(np.exp(a - top))), dtype=np.float64)


@dataclass(frozen=True)
class Activation:
    """One activation function and what grading knows of it."""

    name: str
    symbol: str
    """How feedback writes it (σ, tanh, ReLU)."""
    derivative_text: str
    """Its derivative in words for feedback, at a hidden unit (σ′ = σ(1 − σ))."""
    output_derivative_text: str
    """The same at the output, in terms of ŷ (ŷ(1 − ŷ))."""
    forward: Callable[[Array], Array]
    prime: Callable[[Array], Array] | None
    """The derivative from the pre-activation a, computed stably (None: not elementwise)."""
    from_output: Callable[[Array], Array] | None
    """The derivative from the activation h = f(a), as students compute it."""
    wrong: Callable[[Array, Array], Array] | None = None
    """The common wrong derivative, from (a, h); None when there is none to name."""
    wrong_text: str = ""
    """The wrong derivative in words for feedback ('σ' in 'uses σ where σ′ belongs')."""
    output_only: bool = False
    wrong_zeros: bool = False
    """The wrong derivative is exactly 0 where the right one is not (ReLU's step on the
    wrong side, softmax's diagonal off the target class): grading takes those zeros as
    evidence of the mistake."""

    def derivative(self, a: Array, h: Array) -> Array:
        """f′ at a, elementwise: the stable form where h is f(a) (the key's own
        activation), else the form in h (a student's activation, carried forward)."""
        if self.prime is None or self.from_output is None:
            raise TypeError(f"{self.name} has no elementwise derivative")
        stable = self.prime(a)
        if np.array_equal(h, self.forward(a)):
            return stable
        return np.asarray(np.where(h == self.forward(a), stable, self.from_output(h)))

    def backward(self, a: Array, h: Array, upstream: Array, how: str = "correct") -> Array:
        """∂L/∂a from ∂L/∂h (``upstream``): J_f(a)ᵀ·upstream. ``how``: ``correct``,
        ``wrong`` (the common wrong derivative), ``one`` (the derivative left out) or
        ``preactivation`` (the derivative's form in h = f(a) written with a for h)."""
        if how == "one":
            return np.asarray(upstream * 1.0, dtype=np.float64)
        if how == "preactivation" and self.from_output is not None:
            return np.asarray(upstream * self.from_output(a), dtype=np.float64)
        if how == "wrong" and self.wrong is not None:
            return np.asarray(upstream * self.wrong(a, h), dtype=np.float64)
        if self.prime is None:  # softmax: J = diag(h) − h hᵀ
            return np.asarray(h * (upstream - np.dot(h, upstream)), dtype=np.float64)
        return np.asarray(upstream * self.derivative(a, h), dtype=np.float64)


ACTIVATIONS: dict[str, Activation] = {
    entry.name: entry
    for entry in (
        Activation(
            "sigmoid",
            "σ",
            "σ′ = σ(1 − σ)",
            "ŷ(1 − ŷ)",
            sigmoid,
            _sigmoid_prime,
            lambda h: h * (1.0 - h),
            wrong=lambda a, h: np.asarray(h, dtype=np.float64),
            wrong_text="σ",
        ),
        Activation(
            "tanh",
            "tanh",
            "tanh′ = 1 − tanh²",
            "1 − ŷ²",
            lambda a: np.asarray(np.tanh(a), dtype=np.float64),
            _tanh_prime,
            lambda h: 1.0 - h * h,
            wrong=lambda a, h: np.asarray(1.0 - h, dtype=np.float64),
            wrong_text="1 − tanh",
        ),
        Activation(
            "relu",
            "ReLU",
            "ReLU′ = 1 where a > 0, else 0",
            "1 where a > 0, else 0",
            lambda a: np.asarray(np.where(a > 0, a, 0.0), dtype=np.float64),
            _step,
            lambda h: np.asarray(np.where(h > 0, 1.0, 0.0), dtype=np.float64),
            wrong=lambda a, h: 1.0 - _step(a),
            wrong_text="the step on the wrong side of 0 (1 where a ≤ 0)",
            wrong_zeros=True,
        ),
        Activation("linear", "identity", "1", "1", lambda a: a * 1.0, _ones, _ones),
        Activation(
            "softmax",
            "softmax",
            "diag(ŷ) − ŷŷᵀ",
            "diag(ŷ) − ŷŷᵀ (with cross-entropy, δ = ŷ − y)",
            softmax,
            None,
            None,
            wrong=lambda a, h: np.asarray(h * (1.0 - h), dtype=np.float64),
            wrong_text="only the diagonal ŷ_k(1 − ŷ_k) of the Jacobian",
            output_only=True,
            wrong_zeros=True,
        ),
    )
}
"""Every activation a layer may have, by the name a rubric gives it."""


# --- losses ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Loss:
    """One loss per example, L(ŷ, y), and its derivatives.

    Each function takes (ŷ, a, y, half): ŷ the output as given (a student's, carried
    forward, or the key's), a the output layer's pre-activation, y the target vector of
    the output's shape. Where ŷ is the key's own f(a), the stable form in a is used.
    """

    name: str
    symbol: str
    value: Callable[[Array, Array, Array, bool, str], Array]
    gradient: Callable[[Array, Array, Array, bool, str], Array]
    """∂L/∂ŷ, literally (with softmax and cross-entropy, −y_k/ŷ_k)."""
    output_delta: Callable[[Array, Array, Array, str], Array] | None = None
    """∂L/∂a at the output, computed in one (stable) step, for the output activations
    of ``outputs`` (cross-entropy with softmax: ŷ − y); None: ∂L/∂ŷ through f′."""
    outputs: frozenset[str] = frozenset()
    """The output activations this loss takes (empty: any)."""


def _squared(yhat: Array, a: Array, y: Array, half: bool, output: str) -> Array:
    del a, output
    factor = 1.0 if half else 2.0
    terms = factor / 2.0 * (yhat - y) ** 2
    return np.asarray(np.sum(terms) if np.ndim(terms) else terms, dtype=np.float64)


def _squared_gradient(yhat: Array, a: Array, y: Array, half: bool, output: str) -> Array:
    del a, output
    factor = 1.0 if half else 2.0
    return np.asarray(factor * (yhat - y), dtype=np.float64)


def _own(yhat: Array, a: Array, output: str) -> bool:
    """Is ŷ the key's own output f(a)?"""
    return bool(np.array_equal(np.ravel(yhat), np.ravel(ACTIVATIONS[output].forward(a))))


def _cross_entropy(yhat: Array, a: Array, y: Array, half: bool, output: str) -> Array:
    del half
    flat_y, flat_a = np.ravel(y), np.ravel(a)
    own = _own(yhat, a, output)
    with np.errstate(divide="ignore", invalid="ignore"):
        if output == "softmax":
            if own:  # −Σ y_k (a_k − lse a)
                terms = flat_y * (logsumexp(flat_a) - flat_a)
            else:
                terms = -flat_y * np.log(np.ravel(yhat))
            return np.asarray(np.sum(np.where(flat_y == 0, 0.0, terms)), dtype=np.float64)
        # one sigmoid output: y·softplus(−a) + (1 − y)·softplus(a)
        t, s = float(flat_y[0]), float(flat_a[0])
        if own:
            up, down = np.logaddexp(0.0, -s), np.logaddexp(0.0, s)
        else:
            p = float(np.ravel(yhat)[0])
            up, down = -np.log(p), -np.log1p(-p)
        value = (t * up if t else 0.0) + ((1.0 - t) * down if t != 1 else 0.0)
        return np.asarray(value, dtype=np.float64)


def _cross_entropy_gradient(yhat: Array, a: Array, y: Array, half: bool, output: str) -> Array:
    del half
    shape = np.shape(yhat)
    flat_y, p = np.ravel(y), np.ravel(yhat)
    with np.errstate(divide="ignore", invalid="ignore"):
        if output == "softmax":
            return np.asarray(np.where(flat_y == 0, 0.0, -flat_y / p).reshape(shape))
        # −y/ŷ + (1 − y)/(1 − ŷ), with 1 − ŷ = σ(−a) where ŷ is the key's own
        complement = sigmoid(-np.ravel(a)) if _own(yhat, a, output) else 1.0 - p
        value = np.where(flat_y == 0, 0.0, -flat_y / p) + np.where(
            flat_y == 1, 0.0, (1.0 - flat_y) / complement
        )
        return np.asarray(value.reshape(shape), dtype=np.float64)


def _cross_entropy_delta(yhat: Array, a: Array, y: Array, output: str) -> Array:
    """ŷ·Σy − y, written as sums of products of non-negative terms where ŷ is the key's
    own (ŷ_c − 1 = −Σ_{k≠c} ŷ_k, 1 − σ(a) = σ(−a)), so a confident output keeps its
    digits."""
    flat_y, p = np.ravel(y).astype(np.float64), np.ravel(yhat).astype(np.float64)
    if output == "softmax":
        if not _own(yhat, a, output):
            return np.asarray(p * np.sum(flat_y) - flat_y, dtype=np.float64)
        others_y = np.sum(flat_y) - flat_y  # Σ_{j≠k} y_j (targets: exact sums)
        others_p = np.array([np.sum(np.delete(p, k)) for k in range(p.size)])
        return np.asarray(p * others_y - flat_y * others_p, dtype=np.float64)
    t = flat_y
    complement = sigmoid(-np.ravel(a)) if _own(yhat, a, output) else 1.0 - p
    return np.asarray((1.0 - t) * p - t * complement, dtype=np.float64)


LOSSES: dict[str, Loss] = {
    entry.name: entry
    for entry in (
        Loss("squared", "(ŷ − y)²", _squared, _squared_gradient),
        Loss(
            "cross_entropy",
            "−Σ y log ŷ",
            _cross_entropy,
            _cross_entropy_gradient,
            _cross_entropy_delta,
            frozenset({"softmax", "sigmoid"}),
        ),
    )
}
"""Every loss a network may use, by the name a rubric gives it (``loss: {kind: ...}``)."""
