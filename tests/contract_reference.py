"""An independent reference for networks given layer by layer: a forward and backward
pass in 50-digit mpmath, written from the text of the network format alone (the
README's rubric reference), sharing no code with ``grader``.

A problem is the rubric's own plain data (a dict as YAML gives it). Layer l:
a_l = W_l·[1; h_(l−1)], h_l = act(a_l), h_0 = x, ŷ = h_L; the loss per example is the
squared loss c·Σ_k (ŷ_k − y_k)² (c = ½ with ``half``), or cross-entropy −Σ_k y_k·log ŷ_k
(softmax output) or −[y·log ŷ + (1 − y)·log(1 − ŷ)] (one sigmoid output). Backward by
the chain rule through each activation's Jacobian (softmax's full one), so nothing here
knows that softmax with cross-entropy gives ŷ − y.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mpmath

MP = mpmath.mp.clone() if hasattr(mpmath.mp, "clone") else type(mpmath.mp)()
MP.dps = 50

Vec = list[Any]
Mat = list[Vec]


def _sigmoid(a: Any) -> Any:
    return 1 / (1 + MP.exp(-a))


def _act(name: str, a: Vec) -> Vec:
    if name == "sigmoid":
        return [_sigmoid(t) for t in a]
    if name == "tanh":
        return [MP.tanh(t) for t in a]
    if name == "relu":
        return [t if t > 0 else MP.mpf(0) for t in a]
    if name == "linear":
        return list(a)
    if name == "softmax":
        exps = [MP.exp(t) for t in a]
        total = MP.fsum(exps)
        return [t / total for t in exps]
    raise ValueError(name)


def _jacobian(name: str, a: Vec) -> Mat:
    """J[k][j] = ∂h_k/∂a_j."""
    n = len(a)
    zero = MP.mpf(0)
    if name == "softmax":
        s = _act("softmax", a)
        return [[s[k] * ((1 if k == j else 0) - s[j]) for j in range(n)] for k in range(n)]
    if name == "sigmoid":
        slopes = [MP.exp(-t) / (1 + MP.exp(-t)) ** 2 for t in a]
    elif name == "tanh":
        slopes = [MP.sech(t) ** 2 for t in a]
    elif name == "relu":
        slopes = [MP.mpf(1) if t > 0 else zero for t in a]
    elif name == "linear":
        slopes = [MP.mpf(1) for _ in a]
    else:
        raise ValueError(name)
    return [[slopes[k] if k == j else zero for j in range(n)] for k in range(n)]


@dataclass
class Layer:
    activation: str
    W: Mat


@dataclass
class Network:
    layers: list[Layer]
    loss: str  # "squared" or "cross_entropy"
    half: bool
    examples: list[tuple[Vec, Vec]]  # (x, target vector)


def network_of(problem: dict[str, Any]) -> Network:
    """The network a rubric problem describes (the shorthand as its two layers)."""
    mpf = MP.mpf
    if "layers" in problem:
        raw_layers = [(layer["activation"], layer["W"]) for layer in problem["layers"]]
    else:
        raw_layers = [("sigmoid", problem["W"]), (problem.get("output", "linear"), [problem["v"]])]
    layers = [Layer(act, [[mpf(w) for w in row] for row in W]) for act, W in raw_layers]
    loss = problem.get("loss", {})
    outputs = len(layers[-1].W)
    examples = []
    for example in problem["examples"]:
        y = example["y"]
        if isinstance(y, list):
            target = [mpf(t) for t in y]
        elif outputs > 1:
            target = [mpf(1 if k + 1 == y else 0) for k in range(outputs)]
        else:
            target = [mpf(y)]
        examples.append(([mpf(t) for t in example["x"]], target))
    return Network(layers, loss.get("kind", "squared"), bool(loss.get("half", False)), examples)


@dataclass
class Pass:
    """One example's forward and backward pass; lists indexed by layer l − 1."""

    a: list[Vec]
    h: list[Vec]
    delta: list[Vec]
    weight_grads: list[Mat]  # ∂L/∂W_l
    yhat: Vec
    grad_yhat: Vec  # ∂L/∂ŷ
    loss: Any


def _loss(net: Network, a: Vec, yhat: Vec, y: Vec) -> tuple[Any, Vec]:
    if net.loss == "squared":
        c = MP.mpf(1) / 2 if net.half else MP.mpf(1)
        return (
            c * MP.fsum((p - t) ** 2 for p, t in zip(yhat, y, strict=True)),
            [2 * c * (p - t) for p, t in zip(yhat, y, strict=True)],
        )
    if net.layers[-1].activation == "softmax":
        return (
            -MP.fsum(t * MP.log(p) for p, t in zip(yhat, y, strict=True)),
            [-t / p for p, t in zip(yhat, y, strict=True)],
        )
    (p,), (t,), (q,) = yhat, y, [_sigmoid(-a[0])]  # q = 1 − ŷ, without the subtraction
    return -(t * MP.log(p) + (1 - t) * MP.log(q)), [-t / p + (1 - t) / q]


def forward_backward(net: Network, x: Vec, y: Vec) -> Pass:
    h_prev = x
    a_all: list[Vec] = []
    h_all: list[Vec] = [x]
    for layer in net.layers:
        inputs = [MP.mpf(1), *h_prev]
        a = [MP.fsum(w * u for w, u in zip(row, inputs, strict=True)) for row in layer.W]
        h_prev = _act(layer.activation, a)
        a_all.append(a)
        h_all.append(h_prev)
    yhat = h_prev
    loss, grad = _loss(net, a_all[-1], yhat, y)
    depth = len(net.layers)
    deltas: list[Vec] = [[] for _ in range(depth)]
    upstream = grad  # ∂L/∂h_l
    for at in reversed(range(depth)):
        J = _jacobian(net.layers[at].activation, a_all[at])
        n = len(a_all[at])
        # δ_j = Σ_k ∂L/∂h_k · ∂h_k/∂a_j
        deltas[at] = [MP.fsum(upstream[k] * J[k][j] for k in range(n)) for j in range(n)]
        W = net.layers[at].W
        # ∂L/∂h_(l−1),i = Σ_k w_k,i · δ_k (column 0 is the bias)
        upstream = [
            MP.fsum(W[k][i + 1] * deltas[at][k] for k in range(len(W)))
            for i in range(len(W[0]) - 1)
        ]
    dW = [[[d * u for u in [MP.mpf(1), *h_all[at]]] for d in deltas[at]] for at in range(depth)]
    return Pass(a_all, h_all[1:], deltas, dW, yhat, grad, loss)


def _add(u: Any, v: Any) -> Any:
    if isinstance(u, list):
        return [_add(p, q) for p, q in zip(u, v, strict=True)]
    return u + v


def _scale(u: Any, c: Any) -> Any:
    if isinstance(u, list):
        return [_scale(p, c) for p in u]
    return u * c


def _combine(values: list[Any], selector: Any) -> Any:
    if isinstance(selector, int):
        return values[selector - 1]
    if selector == "all":
        return values
    total = values[0]
    for value in values[1:]:
        total = _add(total, value)
    if selector == "sum":
        return total
    if selector == "mean":
        return _scale(total, MP.mpf(1) / len(values))
    raise ValueError(selector)


def _squeeze_output(vector: Vec) -> Any:
    """ŷ and ∂L/∂ŷ of a single output are scalars."""
    return vector[0] if len(vector) == 1 else vector


def trained(net: Network, training: dict[str, Any]) -> Network:
    """Full-batch gradient descent: every layer at once, on the sum or mean gradient."""
    eta = MP.mpf(training["learning_rate"])
    steps = int(training.get("steps", 1))
    mean = training.get("batch", "sum") == "mean"
    current = net
    for _ in range(steps):
        passes = [forward_backward(current, x, y) for x, y in current.examples]
        layers = []
        for k, layer in enumerate(current.layers):
            grad = _combine([p.weight_grads[k] for p in passes], "mean" if mean else "sum")
            W = [
                [w - eta * g for w, g in zip(row, grow, strict=True)]
                for row, grow in zip(layer.W, grad, strict=True)
            ]
            layers.append(Layer(layer.activation, W))
        current = Network(layers, current.loss, current.half, current.examples)
    return current


class Reference:
    """Every quantity of one network problem, its passes computed once."""

    def __init__(self, problem: dict[str, Any]) -> None:
        self.problem = problem
        self.net = network_of(problem)
        self.passes = [forward_backward(self.net, x, y) for x, y in self.net.examples]
        self.after: Network | None = None
        self.after_passes: list[Pass] = []
        if "training" in problem:
            self.after = trained(self.net, problem["training"])
            self.after_passes = [forward_backward(self.after, x, y) for x, y in self.after.examples]

    def quantity(self, answer: dict[str, Any]) -> Any:
        """The exact value (mpf, nested lists) of one network answer of the rubric."""
        name = answer["quantity"]
        selector = answer.get("example")
        layer = answer.get("layer")
        if layer is None:  # the shorthand's names of its two layers
            layer = {"hidden": 1, "dW": 1, "dv": 2, "W_after": 1, "v_after": 2}.get(name, 0)
        index = int(layer) - 1
        if name in ("W_after", "v_after"):
            if self.after is None:
                raise ValueError("no training block")
            W = self.after.layers[index].W
            return W[0] if name == "v_after" else W
        if name == "loss_after":
            return _combine([p.loss for p in self.after_passes], selector)
        passes = self.passes
        per_example: list[Any]
        if name == "yhat":
            per_example = [_squeeze_output(p.yhat) for p in passes]
        elif name == "dL_dyhat":
            per_example = [_squeeze_output(p.grad_yhat) for p in passes]
        elif name == "loss":
            per_example = [p.loss for p in passes]
        elif name == "preactivation":
            per_example = [p.a[index] for p in passes]
        elif name in ("activation", "hidden"):
            per_example = [p.h[index] for p in passes]
        elif name == "delta":
            per_example = [p.delta[index] for p in passes]
        elif name == "dW":
            per_example = [p.weight_grads[index] for p in passes]
        elif name == "dv":
            per_example = [p.weight_grads[index][0] for p in passes]
        else:
            raise ValueError(name)
        return _combine(per_example, selector)


def shape_of(value: Any) -> tuple[int, ...]:
    if isinstance(value, list):
        return (len(value), *(shape_of(value[0]) if value else ()))
    return ()


def flat(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [entry for part in value for entry in flat(part)]
    return [value]


EXACT_ZERO = MP.mpf(10) ** -40
"""Below this the reference's value may be an exact zero of the mathematics rounded at 50
digits (Σ_k δ_k of softmax with cross-entropy comes out ~1e-52), or a true value that
small (a softmax probability of 1e-48): either the key's 0.0 or its value to 1e-9."""


def worst_relative_error(expected: Any, got: Any) -> float:
    """Largest |got − e|/|e| over the entries; ``inf`` where e is 0 and got is not
    exactly 0.0, or where the shapes differ (below EXACT_ZERO, 0.0 is accepted too)."""
    if shape_of(expected) != shape_of(got):
        return float("inf")
    worst = 0.0
    for e, g in zip(flat(expected), flat(got), strict=True):
        if not isinstance(g, int | float) or isinstance(g, bool):
            return float("inf")
        if e == 0 or (abs(e) < EXACT_ZERO and g == 0.0):
            if g != 0.0:
                return float("inf")
            continue
        worst = max(worst, float(abs((MP.mpf(g) - e) / e)))
    return worst
